// Instances: the list of those I may see (filters, pages), and one instance on its diagram with the
// path taken, current tasks (click → the task), suspended and failed elements, its timeline and its
// audit chain with the verify result.
import { useMemo, useState } from 'react'
import { api } from '../api.js'
import { useT } from '../i18n.js'
import { useApi, usePoll } from '../hooks.js'
import { navigate } from '../router.js'
import Page from '../components/Page.jsx'
import Table from '../components/Table.jsx'
import Badge from '../components/Badge.jsx'
import ProblemBanner from '../components/ProblemBanner.jsx'
import BpmnDiagram from '../components/diagram/BpmnDiagram.jsx'
import { useDirectory } from '../components/directory.js'
import '../styles/instance.css'

export const routes = [
  { path: '/instances', title: 'nav.instances', nav: true, order: 60, component: InstanceList },
  { path: '/instances/:id', title: 'nav.instances', nav: false },
]

const STATUSES = ['running', 'waiting', 'completed', 'cancelled', 'error']
const STATUS_TONE = { running: 'info', waiting: 'warn', completed: 'ok', cancelled: 'neutral', error: 'danger' }
const PAGE_SIZE = 20

export function StatusBadge({ status }) {
  const t = useT()
  return <Badge tone={STATUS_TONE[status] || 'neutral'}>{t(`instance.status.${status}`)}</Badge>
}

function when(iso) {
  if (!iso) return ''
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString()
}

/** id → name of every BPMN element of a diagram (for the timeline); the XML is parsed, never rendered. */
function elementNames(xml) {
  const names = {}
  if (!xml) return names
  try {
    const doc = new DOMParser().parseFromString(xml, 'application/xml')
    for (const el of doc.querySelectorAll('[id]')) {
      const name = el.getAttribute('name')
      if (name) names[el.getAttribute('id')] = name
    }
  } catch {
    /* names are a nicety */
  }
  return names
}

// ------------------------------------------------------------------------------------------ list

export function InstanceList({ query }) {
  const t = useT()
  const dir = useDirectory()
  const process = query.get('process') || ''
  const status = query.get('status') || ''
  const bk = query.get('bk') || ''
  const page = Math.max(1, Number(query.get('page')) || 1)
  const [bkDraft, setBkDraft] = useState(bk)
  const definitions = useApi('/process-definitions')

  const setFilter = (changes) => {
    const next = new URLSearchParams({ process, status, bk, page: String(page), ...changes })
    for (const [k, v] of [...next.entries()]) if (!v || (k === 'page' && v === '1')) next.delete(k)
    const qs = next.toString()
    navigate(`/instances${qs ? `?${qs}` : ''}`, { replace: true })
  }

  const params = new URLSearchParams({ page: String(page), page_size: String(PAGE_SIZE) })
  if (process) params.set('process_key', process)
  if (status) params.set('status', status)
  if (bk) params.set('business_key', bk)
  const path = `/process-instances?${params}`
  const { data, error } = usePoll(() => api(path), 30000, [path])
  const names = Object.fromEntries((definitions.data?.items || []).map((d) => [d.key, d.name || d.key]))
  const pages = data ? Math.max(1, Math.ceil(data.total / PAGE_SIZE)) : 1

  return (
    <Page title={t('instance.list_title')}>
      <form className="instance-filters card" onSubmit={(e) => { e.preventDefault(); setFilter({ bk: bkDraft.trim(), page: '1' }) }}>
        <label>
          {t('instance.process')}
          <select value={process} onChange={(e) => setFilter({ process: e.target.value, page: '1' })}>
            <option value="">{t('instance.all')}</option>
            {(definitions.data?.items || []).map((d) => (
              <option key={d.key} value={d.key}>{d.name || d.key}</option>
            ))}
          </select>
        </label>
        <label>
          {t('instance.status')}
          <select value={status} onChange={(e) => setFilter({ status: e.target.value, page: '1' })}>
            <option value="">{t('instance.all')}</option>
            {STATUSES.map((s) => <option key={s} value={s}>{t(`instance.status.${s}`)}</option>)}
          </select>
        </label>
        <label>
          {t('instance.business_key')}
          <span className="search-row">
            <input name="business_key" value={bkDraft} onChange={(e) => setBkDraft(e.target.value)}
              placeholder={t('instance.business_key_hint')} />
            <button type="submit">{t('instance.search')}</button>
          </span>
        </label>
      </form>
      <ProblemBanner error={error} />
      {data ? (
        <>
          <p className="muted instance-total">{t('instance.total', { n: data.total })}</p>
          <Table
            rows={data.items}
            onRowClick={(r) => navigate(`/instances/${r.id}`)}
            empty={t('instance.none')}
            columns={[
              { key: 'id', title: t('instance.instance'), className: 'primary-cell',
                render: (r) => <a href={`#/instances/${r.id}`} onClick={(e) => e.stopPropagation()}>
                  {names[r.process_key] || r.process_key} #{r.id}</a> },
              { key: 'business_key', title: t('instance.business_key'), render: (r) => r.business_key || '—' },
              { key: 'status', title: t('instance.status'), render: (r) => <StatusBadge status={r.status} /> },
              { key: 'version', title: t('instance.version'), render: (r) => `v${r.version}` },
              { key: 'started_at', title: t('instance.started'), render: (r) => `${when(r.started_at)} · ${dir.user(r.started_by) || ''}` },
            ]}
          />
          {pages > 1 ? (
            <nav className="pager" aria-label={t('instance.pages')}>
              <button type="button" disabled={page <= 1} onClick={() => setFilter({ page: String(page - 1) })}>‹ {t('instance.prev')}</button>
              <span>{t('instance.page_of', { page, pages })}</span>
              <button type="button" disabled={page >= pages} onClick={() => setFilter({ page: String(page + 1) })}>{t('instance.next')} ›</button>
            </nav>
          ) : null}
        </>
      ) : null}
    </Page>
  )
}

// ---------------------------------------------------------------------------------------- detail

const MARK = { completed: 'mark-completed', active: 'mark-active', suspended: 'mark-suspended', error: 'mark-error' }

function Legend() {
  const t = useT()
  return (
    <ul className="diagram-legend" aria-label={t('instance.legend')}>
      {['completed', 'active', 'suspended', 'error'].map((s) => (
        <li key={s}><span className={`swatch swatch-${s}`} aria-hidden="true" />{t(`instance.mark.${s}`)}</li>
      ))}
      <li><span className="swatch swatch-flow" aria-hidden="true" />{t('instance.mark.flow')}</li>
    </ul>
  )
}

function describe(e, names, t) {
  const d = e.data || {}
  const el = d.bpmn_id ? names[d.bpmn_id] || d.bpmn_id : null
  switch (e.kind) {
    case 'complete': return el ? t('instance.ev.complete_task', { task: el }) : t('instance.ev.complete')
    case 'start': return t('instance.ev.start_version', { version: d.version ?? '' })
    case 'cancel': return `${t('instance.ev.cancel')}${d.reason ? `：${d.reason}` : ''}`
    case 'incident': return `${t('instance.ev.incident')}${d.message ? `：${d.message}` : ''}`
    case 'message': return `${t('instance.ev.message')}${d.name ? `：${d.name}` : ''}`
    default: return t(`instance.ev.${e.kind}`) === `instance.ev.${e.kind}` ? e.kind : t(`instance.ev.${e.kind}`)
  }
}

function Timeline({ events, names, brokenSeq }) {
  const t = useT()
  const dir = useDirectory()
  if (!events?.length) return <p className="empty">{t('common.empty')}</p>
  return (
    <ol className="timeline">
      {events.map((e) => (
        <li key={e.seq} className={`timeline-item kind-${e.kind}${brokenSeq === e.seq ? ' broken' : ''}`}>
          <div className="timeline-head">
            <strong>{describe(e, names, t)}</strong>
            <span className="muted">{dir.user(e.actor)}</span>
          </div>
          <div className="muted timeline-at">
            <span>#{e.seq} · {when(e.at)}</span>
          </div>
          {e.data && Object.keys(e.data).length ? (
            <details>
              <summary>{t('instance.details')}</summary>
              <pre>{JSON.stringify(e.data, null, 2)}</pre>
            </details>
          ) : null}
        </li>
      ))}
    </ol>
  )
}

function VerifyResult({ verify, error }) {
  const t = useT()
  if (error) {
    return error.status === 403 || error.status === 404
      ? <p className="muted">{t('instance.audit_hidden')}</p> : <ProblemBanner error={error} />
  }
  if (!verify) return <p className="verify muted">{t('instance.verifying')}</p>
  if (verify.ok) return <p className="verify verify-ok" role="status">✔ {t('instance.verify_ok', { n: verify.checked })}</p>
  return (
    <p className="verify verify-broken" role="alert">
      ✘ {verify.broken_seq != null ? t('instance.verify_broken_at', { seq: verify.broken_seq }) : t('instance.verify_broken')}
      {verify.reason ? <span className="verify-reason">{verify.reason}</span> : null}
    </p>
  )
}

function AuditEvents({ id, brokenSeq }) {
  const t = useT()
  const dir = useDirectory()
  const { data: events, error } = useApi(`/audit?instance_id=${id}&page_size=500`)
  if (error) {
    return error.status === 403 || error.status === 404
      ? <p className="muted">{t('instance.audit_hidden')}</p> : <ProblemBanner error={error} />
  }
  if (!events) return <p className="muted">{t('common.loading')}</p>
  return (
    <Table
      rows={events.items}
      rowKey={(e) => e.seq}
      rowClassName={(e) => (brokenSeq === e.seq ? 'broken' : undefined)}
      columns={[
        { key: 'seq', title: t('instance.seq'), className: 'primary-cell', render: (e) => `#${e.seq} ${e.kind}` },
        { key: 'actor', title: t('instance.actor'), render: (e) => dir.user(e.actor) },
        { key: 'at', title: t('instance.at'), render: (e) => when(e.at) },
        { key: 'hash', title: t('instance.hash'), render: (e) => <code title={e.hash}>{e.hash.slice(0, 12)}…</code> },
        { key: 'prev', title: t('instance.prev_hash'), render: (e) => <code title={e.prev_hash}>{e.prev_hash.slice(0, 12)}…</code> },
      ]}
    />
  )
}

export default function InstanceView({ params }) {
  const t = useT()
  const dir = useDirectory()
  const id = params.id
  const { data: inst, error } = usePoll(() => api(`/process-instances/${encodeURIComponent(id)}`), 15000, [id])
  const xmlPath = inst ? `/process-definitions/${encodeURIComponent(inst.process_key)}/${inst.version}/xml` : null
  const { data: xml, error: xmlError } = useApi(xmlPath)
  const names = useMemo(() => elementNames(xml), [xml])
  const [tab, setTab] = useState('timeline')
  const { data: verify, error: verifyError } = usePoll(() => api(`/audit/verify?instance_id=${encodeURIComponent(id)}`),
    60000, [id])
  const brokenSeq = verify && !verify.ok ? verify.broken_seq : null

  const tasksByElement = useMemo(() => {
    const m = {}
    for (const task of inst?.active_tasks || []) (m[task.bpmn_id] ||= []).push(task)
    return m
  }, [inst])
  const markers = useMemo(() => {
    const m = {}
    for (const [el, state] of Object.entries(inst?.element_states || {})) m[el] = MARK[state]
    for (const flow of inst?.taken_flows || []) m[flow] = 'mark-flow'
    return m
  }, [inst])
  const clickable = useMemo(() => new Set(Object.keys(tasksByElement)), [tasksByElement])
  const openIncidents = (inst?.incidents || []).filter((i) => i.status === 'open')
  const overlays = useMemo(() => openIncidents.filter((i) => i.element_id)
    .map((i) => ({ id: i.element_id, text: `⚠ ${t('instance.mark.error')}`, title: i.message, tone: 'danger' })),
  // eslint-disable-next-line react-hooks/exhaustive-deps
  [inst, t])
  const focus = useMemo(() => [
    ...openIncidents.map((i) => i.element_id),
    ...Object.entries(inst?.element_states || {}).filter(([, s]) => s === 'error' || s === 'active' || s === 'suspended').map(([e]) => e),
  ].filter(Boolean),
  // eslint-disable-next-line react-hooks/exhaustive-deps
  [inst])
  const suspended = Object.entries(inst?.element_states || {}).filter(([, s]) => s === 'suspended').map(([e]) => e)

  const title = inst ? `${names[inst.process_key] || inst.process_key} #${inst.id}` : t('instance.title')
  if (error && !inst) {
    return <Page title={t('instance.title')}><ProblemBanner error={error} /><p><a href="#/instances">{t('instance.back')}</a></p></Page>
  }
  return (
    <Page title={title} className="instance-page" actions={<a href="#/instances" className="back-link">‹ {t('instance.back')}</a>}>
      <ProblemBanner error={error || xmlError} />
      {inst ? (
        <>
          <dl className="instance-facts card">
            <div><dt>{t('instance.status')}</dt><dd><StatusBadge status={inst.status} /></dd></div>
            <div><dt>{t('instance.version')}</dt><dd title={inst.process_key}>v{inst.version}</dd></div>
            <div><dt>{t('instance.business_key')}</dt><dd>{inst.business_key || '—'}</dd></div>
            <div><dt>{t('instance.started')}</dt><dd>{when(inst.started_at)} · {dir.user(inst.started_by)}</dd></div>
            {inst.ended_at ? <div><dt>{t('instance.ended')}</dt><dd>{when(inst.ended_at)}</dd></div> : null}
            {inst.area || inst.department ? (
              <div><dt>{t('instance.where')}</dt><dd>{[dir.department(inst.department), dir.area(inst.area)].filter(Boolean).join(' · ')}</dd></div>
            ) : null}
          </dl>

          {openIncidents.length ? (
            <div className="problem instance-incidents" role="alert">
              <strong>{t('instance.failed')}</strong>
              <ul>
                {openIncidents.map((i) => (
                  <li key={i.id}>
                    {i.element_id ? <code>{names[i.element_id] || i.element_id}</code> : null} {i.message}
                  </li>
                ))}
              </ul>
            </div>
          ) : inst.error ? <div className="problem" role="alert">{inst.error}</div> : null}

          {inst.active_tasks?.length ? (
            <div className="current-tasks">
              <span className="muted">{t('instance.current')}</span>
              {inst.active_tasks.map((task) => (
                <a key={task.id} className="task-chip" href={`#/tasks/${task.id}`}>{task.name || task.bpmn_id} ›</a>
              ))}
            </div>
          ) : null}
          {suspended.length ? (
            <p className="suspended-note">{t('instance.waiting_for', { what: suspended.map((e) => names[e] || e).join('、') })}</p>
          ) : null}

          <BpmnDiagram
            xml={xml}
            markers={markers}
            overlays={overlays}
            clickable={clickable}
            focus={focus}
            label={t('instance.diagram_of', { name: title })}
            onElementClick={(el) => {
              const tasks = tasksByElement[el]
              if (tasks?.length) navigate(`/tasks/${tasks[0].id}`)
            }}
          />
          <Legend />
          <p className="muted diagram-hint">{t('instance.diagram_hint')}</p>

          <h2>{t('instance.history')}</h2>
          <VerifyResult verify={verify} error={verifyError} />
          <div className="tabs" role="tablist">
            {['timeline', 'audit', 'variables'].map((k) => (
              <button key={k} type="button" role="tab" aria-selected={tab === k} className={tab === k ? 'active' : ''}
                onClick={() => setTab(k)}>{t(`instance.tab.${k}`)}</button>
            ))}
          </div>
          {tab === 'timeline' ? <Timeline events={inst.timeline} names={names} brokenSeq={brokenSeq} /> : null}
          {tab === 'audit' ? <AuditEvents id={inst.id} brokenSeq={brokenSeq} /> : null}
          {tab === 'variables' ? (
            Object.keys(inst.variables || {}).length ? (
              <dl className="variables card">
                {Object.entries(inst.variables).map(([k, v]) => (
                  <div key={k}><dt><code>{k}</code></dt><dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd></div>
                ))}
              </dl>
            ) : <p className="empty">{t('common.empty')}</p>
          ) : null}
        </>
      ) : <p className="muted">{t('common.loading')}</p>}
    </Page>
  )
}
