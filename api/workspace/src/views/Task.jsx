// 任务: one task — what it is, claim / release, and its form (JSON Schema + UI schema) to complete it.
import { useEffect, useState } from 'react'
import { api } from '../api.js'
import { useT } from '../i18n.js'
import { useApi } from '../hooks.js'
import { hasRole } from '../session.js'
import { navigate } from '../router.js'
import { toast } from '../toast.js'
import Page from '../components/Page.jsx'
import Badge from '../components/Badge.jsx'
import Countdown from '../components/Countdown.jsx'
import ProblemBanner from '../components/ProblemBanner.jsx'
import SchemaForm, { pickDeclared, submittable } from '../components/forms/SchemaForm.jsx'
import { toExtraErrors } from '../components/forms/serverErrors.js'
import { processNames } from '../components/tasks/processNames.js'
import { useDirectory } from '../components/directory.js'
import CaseSummary from '../components/tasks/CaseSummary.jsx'
import '../styles/tasks.css'

export const routes = [{ path: '/tasks/:id', title: 'nav.tasks', nav: false }]

/** After a task: what happens next (the instance's open tasks), so nobody wonders whether it worked. */
async function nextStep(task, t) {
  const done = t('task.completed', { name: task.name })
  try {
    const inst = await api(`/process-instances/${encodeURIComponent(task.instance_id)}`)
    const open = (inst.active_tasks || []).map((x) => x.name).filter(Boolean)
    if (open.length) return `${done}${t('task.next', { names: [...new Set(open)].join(t('task.list_sep')) })}`
    if (inst.status === 'completed') return `${done}${t('task.finished')}`
  } catch {
    /* the instance may be out of my sight now; the plain message will do */
  }
  return done
}

export default function Task({ params, me }) {
  const t = useT()
  const { data: task, error: loadError, reload } = useApi(`/tasks/${encodeURIComponent(params.id)}`)
  const [formData, setFormData] = useState(undefined)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState(null)
  const [extraErrors, setExtraErrors] = useState(undefined)
  const [names, setNames] = useState({})
  const dir = useDirectory()
  useEffect(() => { processNames().then(setNames)}, [])

  const schema = task?.form || null
  useEffect(() => {
    if (task) setFormData(pickDeclared(task.form, task.data))
  }, [task])

  const ready = task?.state === 'ready'
  const mine = task?.assignee === me.username
  const canWork = ready && (task.candidate_roles.length === 0 || hasRole(me, task.candidate_roles))
  const shownSchema = schema

  async function act(path, okText) {
    setBusy(true)
    setError(null)
    try {
      await api(`/tasks/${encodeURIComponent(params.id)}/${path}`, { method: 'POST' })
      toast(okText)
      await reload()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }

  async function complete(data) {
    setBusy(true)
    setError(null)
    setExtraErrors(undefined)
    try {
      await api(`/tasks/${encodeURIComponent(params.id)}/complete`, { method: 'POST', body: { data: submittable(schema, data) } })
      toast(await nextStep(task, t), 'ok', 8000)
      navigate('/tasks')
    } catch (err) {
      if (err.status === 422 && Array.isArray(err.problem?.errors)) {
        const { extraErrors: placed, unplaced } = toExtraErrors(err.problem.errors, { schema })
        setExtraErrors(placed)
        // Messages shown beside their fields are not repeated up here as raw paths (data.gas_lel_pct):
        // the banner says where to look and keeps only what has no field on the page.
        const shown = err.problem.errors.length - unplaced.length
        setError(shown ? Object.assign(Object.create(Object.getPrototypeOf(err)), err, {
          problem: { ...err.problem, detail: t('task.fix_marked', { n: shown }), errors: unplaced } }) : err)
      } else {
        setError(err)
      }
      setBusy(false)
      window.scrollTo({ top: 0, behavior: 'smooth' })
    }
  }

  if (loadError) return <Page title={t('nav.tasks')}><ProblemBanner error={loadError} /><a href="#/tasks">{t('task.back')}</a></Page>
  if (!task) return <Page title={t('nav.tasks')}><p className="muted">{t('common.loading')}</p></Page>

  const actions = []
  if (ready && !task.assignee && canWork) {
    actions.push(<button key="claim" type="button" onClick={() => act('claim', t('task.claimed'))} disabled={busy}>{t('task.claim')}</button>)
  }
  if (ready && task.assignee && (mine || hasRole(me, 'department_head', 'supervision', 'admin'))) {
    actions.push(<button key="unclaim" type="button" onClick={() => act('unclaim', t('task.unclaimed'))} disabled={busy}>{t('task.unclaim')}</button>)
  }

  return (
    <Page title={task.name} actions={actions.length ? actions : null} className="task-page">
      <p className="back-link"><a href="#/tasks">← {t('task.back')}</a></p>
      <dl className="task-facts card">
        <div><dt>{t('task.process')}</dt><dd>{names[task.process_key] || task.process_key} <span className="muted">#{task.instance_id}</span></dd></div>
        {task.business_key ? <div><dt>{t('task.business_key')}</dt><dd>{task.business_key}</dd></div> : null}
        {task.area ? <div><dt>{t('task.area')}</dt><dd>{dir.area(task.area)}</dd></div> : null}
        <div><dt>{t('task.status')}</dt><dd>
          {!ready ? <Badge tone="neutral">{t(`task.state.${task.state}`)}</Badge>
            : task.assignee ? <Badge tone={mine ? 'info' : 'warn'}>{mine ? t('task.mine') : t('task.held_by', { user: dir.user(task.assignee) })}</Badge>
              : <Badge tone="neutral">{t('task.claimable')}</Badge>}
        </dd></div>
        {task.due_at && ready ? <div><dt>{t('task.due')}</dt><dd><Countdown until={task.due_at} /></dd></div> : null}
      </dl>
      <p className="instance-link"><a href={`#/instances/${task.instance_id}`}>{t('task.see_instance')} →</a></p>
      {ready ? <CaseSummary data={task.data} form={schema} /> : null}
      <ProblemBanner error={error} onClose={() => setError(null)} />
      {ready && !canWork ? <p className="muted">{t('task.not_yours')}</p> : null}
      {shownSchema ? (
        <SchemaForm
          id="task-form"
          schema={shownSchema}
          uiSchema={task.ui_schema || undefined}
          formData={formData}
          onChange={setFormData}
          onSubmit={complete}
          extraErrors={extraErrors}
          disabled={busy || !ready || !canWork}
        >
          {ready && canWork ? (
            <div className="form-actions">
              <button type="submit" className="primary" disabled={busy}>{busy ? t('task.submitting') : t('task.complete')}</button>
            </div>
          ) : <></>}
        </SchemaForm>
      ) : ready && canWork ? (
        <div className="form-actions">
          <button type="button" className="primary" disabled={busy} onClick={() => complete({})}>{t('task.complete')}</button>
        </div>
      ) : null}
    </Page>
  )
}
