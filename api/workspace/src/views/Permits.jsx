// 我的作业票: the permits I applied for or hold a task of, with their status and the validity left.
import { api } from '../api.js'
import { navigate } from '../router.js'
import { useT } from '../i18n.js'
import { usePoll } from '../hooks.js'
import Page from '../components/Page.jsx'
import Table from '../components/Table.jsx'
import Countdown from '../components/Countdown.jsx'
import ProblemBanner from '../components/ProblemBanner.jsx'
import StatusBadge from '../components/board/StatusBadge.jsx'
import { LIVE, gasAge, permitTitle } from '../components/board/permitFormat.js'
import '../styles/board.css'

export const routes = [{ path: '/permits', title: 'nav.permits', nav: true, order: 20 }]

const ORDER = ['suspended', 'working', 'paused', 'issued', 'in_review', 'applied', 'expired', 'closed', 'cancelled']

export default function Permits() {
  const t = useT()
  const { data, error } = usePoll(() => api('/permits?mine=true&page_size=200'), 10000)
  const rows = data ? [...data.items].sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status) || b.id - a.id) : null
  return (
    <Page title={t('permits.title')} className="my-permits">
      <ProblemBanner error={error} />
      {rows ? (
        <Table
          rows={rows}
          empty={t('permits.empty')}
          rowClassName={(r) => `permit-row status-${r.status}`}
          onRowClick={(r) => navigate(`/instances/${r.id}`)}
          columns={[
            {
              key: 'title', title: t('permits.col.permit'), className: 'primary-cell',
              render: (r) => (
                <span className="permit-title" data-permit-id={r.id}>
                  {permitTitle(r, t)} <span className="muted">{r.business_key || `#${r.id}`}</span>
                </span>
              ),
            },
            { key: 'status', title: t('permits.col.status'), render: (r) => <StatusBadge status={r.status} /> },
            {
              key: 'where', title: t('permits.col.where'),
              render: (r) => <span>{r.area_name || r.area}{r.location ? ` · ${r.location}` : ''}</span>,
            },
            {
              key: 'validity', title: t('permits.col.validity'),
              render: (r) => (r.validity_end && LIVE.includes(r.status)
                ? <Countdown until={r.validity_end} tick={1000} warnSeconds={1800} />
                : <span className="muted">{r.validity_end ? new Date(r.validity_end).toLocaleString() : t('permits.validity_not_started')}</span>),
            },
            {
              key: 'gas', title: t('permits.col.gas'),
              render: (r) => {
                const g = LIVE.includes(r.status) ? gasAge(r, t) : null
                return g ? <span className={`gas${g.stale || g.failed ? ' stale' : ''}`}>{g.text}</span> : <span className="muted">—</span>
              },
            },
            {
              key: 'next', title: t('permits.col.next'),
              render: (r) => (r.current_tasks.length
                ? <span>{r.current_tasks.map((x) => x.name).join('、')}</span>
                : r.status === 'suspended' && r.suspended_by === 'stop_work'
                  ? <span>{t('permits.waiting_restart')}</span>
                  : <span className="muted">—</span>),
            },
          ]}
        />
      ) : <p className="muted">{t('common.loading')}</p>}
    </Page>
  )
}
