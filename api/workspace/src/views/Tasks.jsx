import { api } from '../api.js'
import { useT } from '../i18n.js'
import { usePoll } from '../hooks.js'
import Page from '../components/Page.jsx'
import Table from '../components/Table.jsx'
import ProblemBanner from '../components/ProblemBanner.jsx'
import Countdown from '../components/Countdown.jsx'
import { navigate } from '../router.js'

export const routes = [{ path: '/tasks', title: 'nav.tasks', nav: true, order: 10 }]

export default function Tasks() {
  const t = useT()
  const { data, error } = usePoll(() => api('/tasks?mine=true&sort=due&page_size=50'), 15000)
  return (
    <Page title={t('nav.tasks')}>
      <ProblemBanner error={error} />
      {data ? (
        <Table
          rows={data.items}
          onRowClick={(r) => navigate(`/tasks/${r.id}`)}
          columns={[
            { key: 'name', title: t('tasks.name'), className: 'primary-cell' },
            { key: 'due_at', title: t('tasks.due'), render: (r) => <Countdown until={r.due_at} /> },
          ]}
        />
      ) : null}
    </Page>
  )
}
