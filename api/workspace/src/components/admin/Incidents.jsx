// Incidents (failed service tasks, script errors, limits): filter by status, retry (optionally with
// corrected variables) or resolve with a comment, each after a confirmation.
import { useRef, useState } from 'react'
import { api } from '../../api.js'
import { usePoll } from '../../hooks.js'
import { useT } from '../../i18n.js'
import { toast } from '../../toast.js'
import Badge from '../Badge.jsx'
import Page from '../Page.jsx'
import ProblemBanner from '../ProblemBanner.jsx'
import { AdminTabs, Dialog, Field, FormProblem, Pager, fieldErrors, useFocusFirstError, useSubmit } from './forms.jsx'

const PAGE_SIZE = 20
const TONE = { open: 'danger', retried: 'info', resolved: 'ok' }
const CORRECTORS = ['admin', 'supervision']

export default function Incidents({ me }) {
  const t = useT()
  const [status, setStatus] = useState('open')
  const [page, setPage] = useState(1)
  const [action, setAction] = useState(null) // {kind: 'retry'|'resolve', incident}
  const query = new URLSearchParams({ page: String(page), page_size: String(PAGE_SIZE) })
  if (status) query.set('status', status)
  const list = usePoll(() => api(`/incidents?${query}`), 15000, [query.toString()])
  const close = () => setAction(null)
  const done = () => { setAction(null); list.reload() }
  return (
    <Page title={t('admin.incidents.title')} className="admin">
      <AdminTabs me={me} current="incidents" />
      <div className="admin-filters">
        <select name="status" value={status} aria-label={t('admin.incidents.status')}
          onChange={(e) => { setStatus(e.target.value); setPage(1) }}>
          {['open', 'retried', 'resolved'].map((s) => <option key={s} value={s}>{t(`admin.incidents.status.${s}`)}</option>)}
          <option value="">{t('admin.all')}</option>
        </select>
        <button type="button" onClick={() => list.reload()}>{t('common.refresh')}</button>
      </div>
      <ProblemBanner error={list.error} />
      {list.data && list.data.items.length === 0 ? (
        <p className="empty">{status === 'open' ? t('admin.incidents.none_open') : t('common.empty')}</p>
      ) : null}
      <div className="admin-cards">
        {(list.data?.items || []).map((i) => (
          <article key={i.id} className={`card admin-incident status-${i.status}`} data-incident={i.id}>
            <header className="admin-incident-head">
              <h3>#{i.id} <span className="admin-incident-kind">{i.kind}</span></h3>
              <Badge tone={TONE[i.status] || 'neutral'}>{t(`admin.incidents.status.${i.status}`)}</Badge>
            </header>
            <p className="admin-incident-message">{i.message}</p>
            <dl className="admin-dl">
              <dt>{t('admin.incidents.instance')}</dt>
              <dd><a href={`#/instances/${i.instance_id}`}>#{i.instance_id}</a></dd>
              <dt>{t('admin.incidents.created')}</dt>
              <dd>{new Date(i.created_at).toLocaleString()}</dd>
              {i.resolved_by ? (<><dt>{t('admin.incidents.by')}</dt>
                <dd>{i.resolved_by} · {i.resolved_at ? new Date(i.resolved_at).toLocaleString() : ''}</dd></>) : null}
            </dl>
            {i.details && Object.keys(i.details).length ? (
              <details><summary>{t('admin.incidents.details')}</summary>
                <pre className="admin-pre">{JSON.stringify(i.details, null, 2)}</pre></details>
            ) : null}
            {i.status === 'open' ? (
              <div className="admin-form-actions">
                <button type="button" className="primary" onClick={() => setAction({ kind: 'retry', incident: i })}>
                  {t('admin.incidents.retry')}
                </button>
                <button type="button" onClick={() => setAction({ kind: 'resolve', incident: i })}>
                  {t('admin.incidents.resolve')}
                </button>
              </div>
            ) : null}
          </article>
        ))}
      </div>
      {list.data ? <Pager page={page} pageSize={PAGE_SIZE} total={list.data.total} onPage={setPage} /> : null}
      {action?.kind === 'retry' ? <RetryDialog incident={action.incident} me={me} onDone={done} onClose={close} /> : null}
      {action?.kind === 'resolve' ? <ResolveDialog incident={action.incident} onDone={done} onClose={close} /> : null}
    </Page>
  )
}

function RetryDialog({ incident, me, onDone, onClose }) {
  const t = useT()
  const mayCorrect = CORRECTORS.some((r) => me?.roles?.includes(r))
  const [text, setText] = useState('')
  const [localError, setLocalError] = useState(null)
  const { error, busy, run } = useSubmit(async (variables) => {
    const out = await api(`/incidents/${incident.id}/retry`, { method: 'POST', body: variables ? { variables } : {} })
    toast(t('admin.incidents.retried', { id: incident.id, status: out?.instance?.status ?? '' }))
    onDone()
  })
  const errs = fieldErrors(error)
  function go(e) {
    e.preventDefault()
    let variables
    if (text.trim()) {
      try {
        variables = JSON.parse(text)
      } catch {
        variables = null
      }
      if (!variables || typeof variables !== 'object' || Array.isArray(variables)) {
        setLocalError(t('admin.incidents.variables_bad'))
        return
      }
    }
    setLocalError(null)
    run(variables)
  }
  const varErrors = [...(localError ? [localError] : []), ...(errs.variables || [])]
  return (
    <Dialog title={t('admin.incidents.retry')} onClose={onClose}>
      <form onSubmit={go} noValidate>
        <p>{t('admin.incidents.retry_q', { id: incident.id })}</p>
        <p className="admin-incident-message">{incident.message}</p>
        <FormProblem error={error} fields={['variables']} />
        {mayCorrect ? (
          <Field name="variables" label={t('admin.incidents.variables')} hint={t('admin.incidents.variables_hint')} errors={varErrors}>
            {(p) => <textarea {...p} name="variables" spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />}
          </Field>
        ) : null}
        <div className="admin-form-actions">
          <button type="submit" className="primary" disabled={busy}>{t('common.confirm')}</button>
          <button type="button" onClick={onClose}>{t('common.cancel')}</button>
        </div>
      </form>
    </Dialog>
  )
}

function ResolveDialog({ incident, onDone, onClose }) {
  const t = useT()
  const [comment, setComment] = useState('')
  const { error, busy, run } = useSubmit(async () => {
    await api(`/incidents/${incident.id}/resolve`, { method: 'POST', body: { comment } })
    toast(t('admin.incidents.resolved', { id: incident.id }))
    onDone()
  })
  const formRef = useRef(null)
  useFocusFirstError(formRef, error)
  const errs = fieldErrors(error)
  function go(e) {
    e.preventDefault()
    run()
  }
  return (
    <Dialog title={t('admin.incidents.resolve')} onClose={onClose}>
      <form ref={formRef} onSubmit={go} noValidate>
        <p>{t('admin.incidents.resolve_q', { id: incident.id })}</p>
        <p className="admin-incident-message">{incident.message}</p>
        <FormProblem error={error} fields={['comment']} />
        <Field name="comment" label={t('admin.incidents.comment')} errors={errs.comment}>
          {(p) => <textarea {...p} name="comment" value={comment} onChange={(e) => setComment(e.target.value)} />}
        </Field>
        <div className="admin-form-actions">
          <button type="submit" className="primary" disabled={busy}>{t('common.confirm')}</button>
          <button type="button" onClick={onClose}>{t('common.cancel')}</button>
        </div>
      </form>
    </Dialog>
  )
}
