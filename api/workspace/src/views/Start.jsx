// 发起申请: what my roles may start (GET /me/startable-processes), its start form, start it, and go on
// to the first task of the new instance when it is mine (the application form of a permit).
import { useState } from 'react'
import { api } from '../api.js'
import { useT } from '../i18n.js'
import { useApi } from '../hooks.js'
import { hasRole } from '../session.js'
import { navigate } from '../router.js'
import { toast } from '../toast.js'
import Page from '../components/Page.jsx'
import ProblemBanner from '../components/ProblemBanner.jsx'
import SchemaForm, { submittable } from '../components/forms/SchemaForm.jsx'
import { toExtraErrors } from '../components/forms/serverErrors.js'
import '../styles/tasks.css'

export const routes = [
  { path: '/start', title: 'nav.start', nav: true, order: 20 },
  { path: '/start/:key', title: 'nav.start', nav: false },
]

function StartList({ items }) {
  const t = useT()
  if (!items.length) return <p className="empty">{t('start.empty')}</p>
  return (
    <ul className="start-list">
      {items.map((p) => (
        <li key={p.key}>
          <button type="button" onClick={() => navigate(`/start/${p.key}`)} data-process={p.key}>
            <strong>{p.name}</strong>
            <span>{p.start_event}</span>
          </button>
        </li>
      ))}
    </ul>
  )
}

function StartForm({ process, me }) {
  const t = useT()
  const [formData, setFormData] = useState({})
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState(null)
  const [extraErrors, setExtraErrors] = useState(undefined)

  async function start(data) {
    setBusy(true)
    setError(null)
    setExtraErrors(undefined)
    try {
      const inst = await api('/process-instances', { method: 'POST',
        body: { process_key: process.key, variables: submittable(process.form, data) } })
      const next = (inst.active_tasks || []).find((task) => task.assignee === me.username
        || (!task.assignee && (task.candidate_roles.length === 0 || hasRole(me, task.candidate_roles))))
      if (next) {
        toast(t('start.started', { name: process.name }))
        navigate(`/tasks/${next.id}`)
      } else {
        toast(t('start.started_elsewhere', { name: process.name }))
        navigate('/tasks')
      }
    } catch (err) {
      setError(err)
      if (err.status === 422 && Array.isArray(err.problem?.errors)) {
        setExtraErrors(toExtraErrors(err.problem.errors, { prefix: 'variables.', schema: process.form }).extraErrors)
      }
      setBusy(false)
    }
  }

  return (
    <Page title={process.name} className="start-page">
      <p className="back-link"><a href="#/start">← {t('start.back')}</a></p>
      <ProblemBanner error={error} onClose={() => setError(null)} />
      <SchemaForm id="start-form" schema={process.form} formData={formData} onChange={setFormData} onSubmit={start}
        extraErrors={extraErrors} disabled={busy}>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy}>{busy ? t('start.submitting') : t('start.submit')}</button>
        </div>
      </SchemaForm>
    </Page>
  )
}

export default function Start({ params, me }) {
  const t = useT()
  const { data, error } = useApi('/me/startable-processes')
  if (error) return <Page title={t('start.title')}><ProblemBanner error={error} /></Page>
  if (!data) return <Page title={t('start.title')}><p className="muted">{t('common.loading')}</p></Page>
  if (params.key) {
    const process = data.items.find((p) => p.key === params.key)
    if (!process) return <Page title={t('start.title')}><p>{t('common.not_found')}</p></Page>
    return <StartForm process={process} me={me} />
  }
  return <Page title={t('start.title')}><StartList items={data.items} /></Page>
}
