// 我的任务: the tasks assigned to me and those of my roles I may claim, soonest deadline first,
// overdue ones in red with the time overdue; 50 per page with a "more" button (fast with 1,000 tasks).
import { useEffect, useState } from 'react'
import { api } from '../api.js'
import { useT } from '../i18n.js'
import { usePoll } from '../hooks.js'
import { navigate } from '../router.js'
import Page from '../components/Page.jsx'
import Table from '../components/Table.jsx'
import Badge from '../components/Badge.jsx'
import ProblemBanner from '../components/ProblemBanner.jsx'
import Countdown, { useNow } from '../components/Countdown.jsx'
import { processNames } from '../components/tasks/processNames.js'
import { useDirectory } from '../components/directory.js'
import '../styles/tasks.css'

export const routes = [{ path: '/tasks', title: 'nav.tasks', nav: true, order: 10 }]

const PAGE_SIZE = 50
const POLL_MS = 30000

async function loadPages(pages) {
  // Every page shown so far, again (a poll keeps them current; usually it is one request).
  const answers = await Promise.all(Array.from({ length: pages }, (_, i) =>
    api(`/tasks?mine=true&sort=due&order=asc&page=${i + 1}&page_size=${PAGE_SIZE}`)))
  const seen = new Set()
  const items = []
  for (const a of answers) for (const it of a.items) if (!seen.has(it.id)) { seen.add(it.id); items.push(it) }
  return { items, total: answers[answers.length - 1].total }
}

export default function Tasks({ me }) {
  const t = useT()
  const [pages, setPages] = useState(1)
  const { data, error, loading, reload } = usePoll(() => loadPages(pages), POLL_MS, [pages])
  const [names, setNames] = useState({})
  const dir = useDirectory()
  const now = useNow(30000)
  useEffect(() => { processNames().then(setNames)}, [])

  const items = data?.items || []
  const total = data?.total ?? 0
  const overdue = (r) => r.due_at && Date.parse(r.due_at) < now
  const columns = [
    {
      key: 'name', title: t('tasks.name'), className: 'primary-cell',
      render: (r) => <a href={`#/tasks/${r.id}`} className="task-name">{r.name}</a>,
    },
    {
      key: 'process', title: t('tasks.process'),
      render: (r) => (
        <span>{names[r.process_key] || r.process_key} <span className="muted">#{r.instance_id}</span>
          {r.business_key ? <span className="muted"> · {r.business_key}</span> : null}</span>
      ),
    },
    { key: 'area', title: t('tasks.area'), render: (r) => (r.area ? dir.area(r.area) : '—') },
    {
      key: 'due', title: t('tasks.due'),
      render: (r) => (r.due_at ? <Countdown until={r.due_at} /> : <span className="muted">{t('tasks.no_due')}</span>),
    },
    {
      key: 'status', title: t('tasks.status'),
      render: (r) => (r.assignee === me.username ? <Badge tone="info">{t('tasks.mine')}</Badge>
        : r.assignee ? <Badge tone="warn">{dir.user(r.assignee)}</Badge> : <Badge tone="neutral">{t('tasks.claimable')}</Badge>),
    },
  ]
  return (
    <Page title={t('nav.tasks')} className="task-list"
      actions={<>
        <button type="button" className="refresh" onClick={reload} disabled={loading}>{t('common.refresh')}</button>
        <a href="#/start" className="button-link">{t('tasks.start_new')}</a>
      </>}>
      <ProblemBanner error={error} />
      {data ? (
        <>
          <p className="summary" data-testid="task-summary">
            {t('tasks.summary', { shown: items.length, total, overdue: items.filter(overdue).length })}
          </p>
          <Table
            rows={items}
            columns={columns}
            onRowClick={(r) => navigate(`/tasks/${r.id}`)}
            rowClassName={(r) => (overdue(r) ? 'overdue' : undefined)}
            empty={t('tasks.empty')}
          />
          {items.length < total ? (
            <div className="more">
              <button type="button" onClick={() => setPages((p) => p + 1)} disabled={loading}>
                {loading ? t('common.loading') : t('tasks.more', { left: total - items.length })}
              </button>
            </div>
          ) : null}
        </>
      ) : !error ? <p className="muted">{t('common.loading')}</p> : null}
    </Page>
  )
}
