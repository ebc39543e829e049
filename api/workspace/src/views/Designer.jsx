// Process design: upload, validate and deploy .bpmn/.dmn/form files (every error as
// `file:line [element] message`); the processes and their versions; what changed between two
// versions (also marked on the newer diagram); any version's diagram.
import { useMemo, useRef, useState } from 'react'
import { api } from '../api.js'
import { useT } from '../i18n.js'
import { useApi } from '../hooks.js'
import { navigate } from '../router.js'
import Page from '../components/Page.jsx'
import Table from '../components/Table.jsx'
import Badge from '../components/Badge.jsx'
import ProblemBanner from '../components/ProblemBanner.jsx'
import BpmnDiagram from '../components/diagram/BpmnDiagram.jsx'
import '../styles/designer.css'
import { useDirectory } from '../components/directory.js'

const ROLES = ['designer', 'admin']

export const routes = [
  { path: '/designer', title: 'nav.designer', nav: true, order: 70, roles: ROLES },
  { path: '/designer/:key', title: 'nav.designer', nav: false, roles: ROLES, component: ProcessVersions },
  { path: '/designer/:key/:version', title: 'nav.designer', nav: false, roles: ROLES, component: VersionDiagram },
]

function when(iso) {
  if (!iso) return ''
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString()
}

function kb(bytes) {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`
}

/** `file:line [element] message`, the way a designer finds the problem in the modeler. */
export function formatDeployError(e) {
  let where = e.file || ''
  if (e.line != null) where += `:${e.line}`
  if (e.element_id) where += ` [${e.element_id}]`
  return `${where} ${e.message}`.trim()
}

function typeName(t, type) {
  const key = `designer.type.${type}`
  const text = t(key)
  return text === key ? type : text
}

// --------------------------------------------------------------------------------- upload & deploy

function Upload({ onDeployed }) {
  const t = useT()
  const input = useRef(null)
  const [files, setFiles] = useState([])
  const [busy, setBusy] = useState(null)
  const [result, setResult] = useState(null) // {kind: 'valid'|'deployed'|'errors'|'problem', ...}
  const [dragging, setDragging] = useState(false)

  const add = (list) => {
    const next = [...files]
    for (const f of list) {
      const i = next.findIndex((x) => x.name === f.name)
      if (i >= 0) next[i] = f
      else next.push(f)
    }
    setFiles(next)
    setResult(null)
  }
  const send = async (what) => {
    const form = new FormData()
    for (const f of files) form.append('files', f, f.name)
    setBusy(what)
    setResult(null)
    try {
      const path = what === 'validate' ? '/deployments/validate' : '/deployments'
      const data = await api(path, { method: 'POST', form })
      setResult({ kind: what === 'validate' ? 'valid' : 'deployed', data })
      if (what === 'deploy') onDeployed?.()
    } catch (err) {
      const errors = err.problem?.errors
      if (err.status === 422 && Array.isArray(errors) && errors.some((e) => 'file' in e)) {
        setResult({ kind: 'errors', errors, detail: err.problem.detail })
      } else {
        setResult({ kind: 'problem', error: err })
      }
    } finally {
      setBusy(null)
    }
  }

  return (
    <section className="card designer-upload" aria-labelledby="upload-title">
      <h2 id="upload-title">{t('designer.upload_title')}</h2>
      <div
        className={`dropzone${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => { e.preventDefault(); setDragging(true) }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => { e.preventDefault(); setDragging(false); add(e.dataTransfer.files) }}
      >
        <label className="file-pick">
          <input ref={input} type="file" name="files" multiple accept=".bpmn,.dmn,.json,.xml"
            onChange={(e) => { add(e.target.files); e.target.value = '' }} />
          <span className="button-like">{t('designer.choose')}</span>
        </label>
        <span className="muted">{t('designer.drop_hint')}</span>
      </div>
      {files.length ? (
        <ul className="file-list">
          {files.map((f) => (
            <li key={f.name}>
              <code>{f.name}</code> <span className="muted">{kb(f.size)}</span>
              <button type="button" className="link" aria-label={t('designer.remove', { name: f.name })}
                onClick={() => { setFiles(files.filter((x) => x !== f)); setResult(null) }}>×</button>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="upload-actions">
        <button type="button" disabled={!files.length || !!busy} onClick={() => send('validate')}>
          {busy === 'validate' ? t('designer.validating') : t('designer.validate')}
        </button>
        <button type="button" className="primary" disabled={!files.length || !!busy} onClick={() => send('deploy')}>
          {busy === 'deploy' ? t('designer.deploying') : t('designer.deploy')}
        </button>
        {files.length ? <button type="button" className="link" onClick={() => { setFiles([]); setResult(null) }}>{t('designer.clear')}</button> : null}
      </div>
      {result?.kind === 'valid' ? (
        <p className="result-ok" role="status">
          ✔ {t('designer.valid', { n: result.data.processes.length })}{' '}
          {result.data.processes.map((p) => p.name || p.key).join('、')}
        </p>
      ) : null}
      {result?.kind === 'deployed' ? (
        <div className="result-ok" role="status">
          ✔ {t('designer.deployed')}
          <ul>
            {result.data.processes.map((p) => (
              <li key={p.key}>
                <a href={`#/designer/${encodeURIComponent(p.key)}`}>{p.key}</a> v{p.version}{' '}
                <Badge tone={p.created ? 'ok' : 'neutral'}>{p.created ? t('designer.new_version') : t('designer.unchanged')}</Badge>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {result?.kind === 'errors' ? (
        <div className="problem deploy-errors" role="alert">
          <strong>{t('designer.errors', { n: result.errors.length })}</strong>
          <ul>
            {result.errors.map((e, i) => (
              <li key={i} className="deploy-error" data-file={e.file} data-line={e.line ?? ''} data-element-id={e.element_id ?? ''}>
                <code>{formatDeployError(e)}</code>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {result?.kind === 'problem' ? <ProblemBanner error={result.error} /> : null}
    </section>
  )
}

export default function Designer() {
  const t = useT()
  const dir = useDirectory()
  const { data, error, reload } = useApi('/process-definitions')
  return (
    <Page title={t('designer.title')}>
      <Upload onDeployed={reload} />
      <h2>{t('designer.processes')}</h2>
      <ProblemBanner error={error} />
      {data ? (
        <Table
          rows={data.items}
          rowKey={(d) => d.key}
          onRowClick={(d) => navigate(`/designer/${encodeURIComponent(d.key)}`)}
          columns={[
            { key: 'name', title: t('designer.process'), className: 'primary-cell',
              render: (d) => <a href={`#/designer/${encodeURIComponent(d.key)}`} onClick={(e) => e.stopPropagation()}>{d.name || d.key}</a> },
            { key: 'key', title: t('designer.key'), render: (d) => <code>{d.key}</code> },
            { key: 'version', title: t('designer.latest'), render: (d) => `v${d.version}` },
            { key: 'deployed_at', title: t('designer.deployed_at'), render: (d) => `${when(d.deployed_at)} · ${dir.user(d.deployed_by) || ''}` },
          ]}
        />
      ) : null}
    </Page>
  )
}

// ------------------------------------------------------------------------------------ versions & diff

function Value({ value }) {
  if (value === null || value === undefined) return <span className="muted">—</span>
  return typeof value === 'string' ? value : JSON.stringify(value)
}

function Change({ c, t }) {
  const kind = t(`designer.kind.${c.kind}`) === `designer.kind.${c.kind}` ? c.kind : t(`designer.kind.${c.kind}`)
  return (
    <li className="change">
      <span className="change-what">{kind}{c.name && c.name !== c.kind ? <code> {c.name}</code> : null}{c.path ? <code> {c.path}</code> : null}</span>
      <span className="change-values">
        <del><Value value={c.old} /></del>
        <span aria-hidden="true"> → </span>
        <ins><Value value={c.new} /></ins>
      </span>
    </li>
  )
}

function ElementLine({ e, sign, t }) {
  return (
    <>
      <span className={`diff-sign sign-${sign}`} aria-hidden="true">{sign === 'added' ? '+' : sign === 'removed' ? '−' : '~'}</span>
      <strong>{e.name || e.id}</strong> <span className="muted">{typeName(t, e.type)} · <code>{e.id}</code></span>
    </>
  )
}

export function DiffView({ diff }) {
  const t = useT()
  const els = diff.elements
  const count = els.added.length + els.removed.length + els.changed.length
  if (diff.identical) return <p className="result-ok">{t('designer.identical')}</p>
  return (
    <div className="diff">
      <p className="diff-summary">
        <span className="sign-added">+{els.added.length} {t('designer.added')}</span>
        <span className="sign-removed">−{els.removed.length} {t('designer.removed')}</span>
        <span className="sign-changed">~{els.changed.length} {t('designer.changed')}</span>
      </p>
      {count ? (
        <ul className="diff-list">
          {els.added.map((e) => (
            <li key={`a-${e.process}-${e.id}`} className="diff-item diff-added" data-element-id={e.id} data-change="added">
              <ElementLine e={e} sign="added" t={t} />
            </li>
          ))}
          {els.removed.map((e) => (
            <li key={`r-${e.process}-${e.id}`} className="diff-item diff-removed" data-element-id={e.id} data-change="removed">
              <ElementLine e={e} sign="removed" t={t} />
            </li>
          ))}
          {els.changed.map((e) => (
            <li key={`c-${e.process}-${e.id}`} className="diff-item diff-changed" data-element-id={e.id} data-change="changed">
              <ElementLine e={e} sign="changed" t={t} />
              <ul className="changes">{e.changes.map((c, i) => <Change key={i} c={c} t={t} />)}</ul>
            </li>
          ))}
        </ul>
      ) : null}
      {diff.layout_changed.length ? (
        <p className="muted">{t('designer.moved')}: {diff.layout_changed.map((id) => <code key={id}>{id} </code>)}</p>
      ) : null}
      {diff.forms.added.length || diff.forms.removed.length || diff.forms.changed.length ? (
        <>
          <h3>{t('designer.forms')}</h3>
          <ul className="diff-list">
            {diff.forms.added.map((f) => <li key={`fa-${f}`} className="diff-item diff-added"><span className="diff-sign sign-added">+</span><code>{f}</code></li>)}
            {diff.forms.removed.map((f) => <li key={`fr-${f}`} className="diff-item diff-removed"><span className="diff-sign sign-removed">−</span><code>{f}</code></li>)}
            {diff.forms.changed.map((f) => (
              <li key={`fc-${f.file}`} className="diff-item diff-changed" data-form={f.file}>
                <span className="diff-sign sign-changed">~</span><code>{f.file}</code>
                <ul className="changes">{f.changes.map((c, i) => <Change key={i} c={{ ...c, kind: 'form' }} t={t} />)}</ul>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {diff.decisions.added.length || diff.decisions.removed.length || diff.decisions.changed.length ? (
        <>
          <h3>{t('designer.decisions')}</h3>
          <ul className="diff-list">
            {diff.decisions.added.map((d) => <li key={`da-${d.id}`} className="diff-item diff-added"><span className="diff-sign sign-added">+</span><strong>{d.name || d.id}</strong> <code>{d.file}</code></li>)}
            {diff.decisions.removed.map((d) => <li key={`dr-${d.id}`} className="diff-item diff-removed"><span className="diff-sign sign-removed">−</span><strong>{d.name || d.id}</strong> <code>{d.file}</code></li>)}
            {diff.decisions.changed.map((d) => (
              <li key={`dc-${d.id}`} className="diff-item diff-changed" data-decision={d.id}>
                <span className="diff-sign sign-changed">~</span><strong>{d.name || d.id}</strong> <code>{d.file}</code>
                <ul className="changes">{d.changes.map((c, i) => <Change key={i} c={c} t={t} />)}</ul>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  )
}

export function ProcessVersions({ params, query }) {
  const t = useT()
  const dir = useDirectory()
  const key = params.key
  const { data, error } = useApi(`/process-definitions/${encodeURIComponent(key)}`)
  const versions = data?.versions || []
  const latest = versions[0]?.version
  const from = Number(query.get('from')) || (latest > 1 ? latest - 1 : latest)
  const to = Number(query.get('to')) || latest
  const pick = (changes) => {
    const next = new URLSearchParams({ from: String(from), to: String(to), ...changes })
    navigate(`/designer/${encodeURIComponent(key)}?${next}`, { replace: true })
  }
  const diffPath = data && from && to && from !== to
    ? `/process-definitions/${encodeURIComponent(key)}/diff?from=${from}&to=${to}` : null
  const diff = useApi(diffPath)
  const xml = useApi(diffPath ? `/process-definitions/${encodeURIComponent(key)}/${to}/xml` : null)
  const markers = useMemo(() => {
    const m = {}
    for (const e of diff.data?.elements.added || []) m[e.id] = 'mark-added'
    for (const e of diff.data?.elements.changed || []) m[e.id] = 'mark-changed'
    return m
  }, [diff.data])
  const focus = useMemo(() => Object.keys(markers), [markers])

  return (
    <Page title={data?.name || key} actions={<a href="#/designer" className="back-link">‹ {t('designer.title')}</a>}>
      <ProblemBanner error={error} />
      {data ? (
        <>
          <h2>{t('designer.versions')}</h2>
          <Table
            rows={versions}
            rowKey={(v) => v.version}
            columns={[
              { key: 'version', title: t('designer.version'), className: 'primary-cell',
                render: (v) => <a href={`#/designer/${encodeURIComponent(key)}/${v.version}`}>v{v.version} · {t('designer.view_diagram')}</a> },
              { key: 'deployed_at', title: t('designer.deployed_at'), render: (v) => `${when(v.deployed_at)} · ${dir.user(v.deployed_by) || ''}` },
              { key: 'content_hash', title: t('designer.hash'), render: (v) => <code title={v.content_hash}>{v.content_hash.slice(0, 10)}</code> },
            ]}
          />
          <h2>{t('designer.compare')}</h2>
          {versions.length < 2 ? <p className="muted">{t('designer.one_version')}</p> : (
            <div className="compare-pick card">
              <label>
                {t('designer.from')}
                <select name="from" value={from} onChange={(e) => pick({ from: e.target.value })}>
                  {versions.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}
                </select>
              </label>
              <span aria-hidden="true" className="compare-arrow">→</span>
              <label>
                {t('designer.to')}
                <select name="to" value={to} onChange={(e) => pick({ to: e.target.value })}>
                  {versions.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}
                </select>
              </label>
            </div>
          )}
          {from === to && versions.length > 1 ? <p className="muted">{t('designer.same_version')}</p> : null}
          <ProblemBanner error={diff.error} />
          {diff.data ? (
            <>
              <DiffView diff={diff.data} />
              {xml.data && (focus.length || diff.data.elements.removed.length) ? (
                <>
                  <h3>{t('designer.on_diagram', { version: to })}</h3>
                  <BpmnDiagram xml={xml.data} markers={markers} focus={focus} label={t('designer.diagram_of', { key, version: to })} />
                  <ul className="diagram-legend">
                    <li><span className="swatch swatch-added" aria-hidden="true" />{t('designer.added')}</li>
                    <li><span className="swatch swatch-changed" aria-hidden="true" />{t('designer.changed')}</li>
                  </ul>
                </>
              ) : null}
            </>
          ) : diffPath && !diff.error ? <p className="muted">{t('common.loading')}</p> : null}
        </>
      ) : null}
    </Page>
  )
}

export function VersionDiagram({ params }) {
  const t = useT()
  const { key, version } = params
  const path = `/process-definitions/${encodeURIComponent(key)}/${encodeURIComponent(version)}/xml`
  const { data: xml, error } = useApi(path)
  return (
    <Page title={`${key} v${version}`}
      actions={<a href={`#/designer/${encodeURIComponent(key)}`} className="back-link">‹ {t('designer.versions')}</a>}>
      <ProblemBanner error={error} />
      {xml ? (
        <>
          <BpmnDiagram xml={xml} label={t('designer.diagram_of', { key, version })} />
          <p><a href={`/api/v1${path}`} download={`${key}-v${version}.bpmn`}>{t('designer.download')}</a></p>
        </>
      ) : null}
    </Page>
  )
}
