// Plant leadership (issue 13): the fusion report of a month and the integrated assessment.
// The report is read as JSON and drawn here; its charts are the server's SVG images shown with <img>
// (an image runs no script), never the report's HTML inside this page. PDF and printable HTML are plain
// links: the session cookie authenticates them, no token goes into a URL.
import { useState } from 'react'
import { api } from '../api.js'
import { useApi, usePoll } from '../hooks.js'
import { useLang, useT } from '../i18n.js'
import { navigate } from '../router.js'
import { hasRole } from '../session.js'
import { toast } from '../toast.js'
import Badge from '../components/Badge.jsx'
import Page from '../components/Page.jsx'
import ProblemBanner from '../components/ProblemBanner.jsx'
import Table from '../components/Table.jsx'
import '../styles/leadership.css'
import { useDirectory } from '../components/directory.js'

// GET /reports/fusion and /assessments answer any signed-in user; the views are for these roles.
const LEADERS = ['plant_leader', 'supervision', 'admin', 'department_head']
const RUNNERS = ['admin', 'supervision', 'plant_leader'] // POST /analytics/runs
const PERSON_VIEWERS = ['admin', 'supervision', 'plant_leader', 'department_head'] // person-level assessments
const ANALYSES = ['equipment_load', 'violation_hotspots', 'supervision', 'permits']
const CHARTS_OF = {
  equipment_load: ['load_bands', 'flagged_equipment'],
  supervision: ['supervision'],
  permits: ['permits'],
}
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/
const QUARTER = /^\d{4}-Q[1-4]$/

export const routes = [
  { path: '/report', title: 'nav.reports', nav: true, roles: LEADERS, order: 70, component: Report },
  { path: '/assessment', title: 'leadership.assessment', nav: false, roles: LEADERS, component: Assessment },
]

function currentMonth() {
  const d = new Date()
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`
}

function pct(v) {
  return v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`
}

function num(v, digits = 2) {
  if (v === null || v === undefined) return '—'
  if (typeof v !== 'number') return String(v)
  return Number.isInteger(v) ? v.toLocaleString() : v.toLocaleString(undefined, { maximumFractionDigits: digits })
}

function when(iso) {
  if (!iso) return ''
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString()
}

function Tabs({ current }) {
  const t = useT()
  return (
    <nav className="lead-tabs" aria-label={t('nav.reports')}>
      {[['report', 'leadership.report'], ['assessment', 'leadership.assessment']].map(([name, key]) => (
        <a key={name} href={`#/${name}`} className={current === name ? 'active' : ''}
          aria-current={current === name ? 'page' : undefined}>{t(key)}</a>
      ))}
    </nav>
  )
}

/** The period of the page: ?period= in the hash, else the month of the newest analysis run, else this month. */
function useDefaultMonth(query) {
  const asked = query?.get('period')
  const runs = useApi(asked ? null : '/analytics/runs')
  if (asked) return asked
  if (runs.loading && runs.data === undefined) return null
  const newest = runs.data?.items?.find((r) => MONTH.test(r.period))
  return newest ? newest.period : currentMonth()
}

export default function Report({ query, me }) {
  const t = useT()
  const period = useDefaultMonth(query)
  return (
    <Page title={t('leadership.report')} className="lead">
      <Tabs current="report" />
      {period ? <ReportBody period={period} me={me} /> : <p className="muted">{t('common.loading')}</p>}
    </Page>
  )
}

function ReportBody({ period, me }) {
  const t = useT()
  const dir = useDirectory()
  const [running, setRunning] = useState(false)
  const [runError, setRunError] = useState(null)
  const [stamp, setStamp] = useState(0) // bumps the chart URLs after a run
  const valid = MONTH.test(period)
  const report = usePoll(() => (valid ? api(`/reports/fusion?period=${encodeURIComponent(period)}&format=json`)
    : Promise.resolve(null)), 0, [period, stamp])
  const data = report.data

  async function run() {
    setRunning(true)
    setRunError(null)
    try {
      const out = await api('/analytics/runs', { method: 'POST', body: { period } })
      toast(t('leadership.ran', { n: out?.runs?.length ?? 0 }))
      setStamp((s) => s + 1)
    } catch (err) {
      setRunError(err)
    } finally {
      setRunning(false)
    }
  }

  const q = `period=${encodeURIComponent(period)}`
  const chart = (name) => (data?.charts || []).includes(name) ? (
    <figure className="lead-chart" key={name} data-chart={name}>
      <img src={`/api/v1/reports/fusion/charts/${encodeURIComponent(name)}?${q}${stamp ? `&v=${stamp}` : ''}`}
        alt={t('leadership.chart', { name })} loading="lazy" decoding="async" />
    </figure>
  ) : null

  return (
    <>
      <div className="lead-toolbar">
        <label className="lead-period">
          <span>{t('leadership.period')}</span>
          <input type="month" name="period" value={valid ? period : ''} required
            onChange={(e) => e.target.value && navigate(`/report?period=${e.target.value}`, { replace: true })} />
        </label>
        <div className="lead-actions">
          {valid ? <a className="lead-button" href={`/api/v1/reports/fusion?${q}&format=pdf`} download={`fusion-report-${period}.pdf`}>{t('leadership.pdf')}</a> : null}
          {valid ? <a className="lead-button" href={`/api/v1/reports/fusion?${q}&format=html`} target="_blank" rel="noopener">{t('leadership.html')}</a> : null}
          {hasRole(me, RUNNERS) && valid ? (
            <button type="button" onClick={run} disabled={running}>{running ? t('leadership.running') : t('leadership.run')}</button>
          ) : null}
        </div>
      </div>
      <ProblemBanner error={report.error || runError} onClose={runError ? () => setRunError(null) : undefined} />
      {report.loading && !data ? <p className="muted">{t('common.loading')}</p> : null}
      {data ? (
        <div className="lead-report" data-period={data.period}>
          <p className="muted lead-note">{t('leadership.generated', { at: when(data.generated_at) })}</p>
          <h2>{t('leadership.indicators')}</h2>
          <Kpis indicators={data.indicators} />
          <h2>{t('leadership.trend')}</h2>
          <div className="lead-charts">{(trendCharts(data)).map(chart)}</div>
          {reportSections(data).map((sec) => (
            <section key={sec.key} className="lead-analysis" data-analysis={sec.key}>
              <h2>{t(`leadership.analysis.${sec.key}`) === `leadership.analysis.${sec.key}` ? sec.title : t(`leadership.analysis.${sec.key}`)}</h2>
              {sec.key === 'area_hotspots' ? (
                <AreaHazards data={data} section={sec} chart={chart} />
              ) : data.analyses?.[sec.key] ? (
                <>
                  <p className="muted lead-note">{t('leadership.run_info', { id: data.analyses[sec.key].run_id, at: when(data.analyses[sec.key].run_at) })}</p>
                  {data.analyses[sec.key].result?.method ? <p className="lead-method muted">{data.analyses[sec.key].result.method}</p> : null}
                  <div className="lead-charts">{sec.charts.map(chart)}</div>
                  <Verdict section={sec} />
                  <AnalysisBody name={sec.key} result={data.analyses[sec.key].result || {}} />
                </>
              ) : (
                <div className="lead-missing" data-missing={sec.key}>
                  <p>{t('leadership.not_run')}</p>
                  <p className="muted">{t('leadership.not_run_hint', { period: data.period })}</p>
                </div>
              )}
            </section>
          ))}
          <h2>{t('leadership.findings')}</h2>
          <Table rows={data.findings} rowKey={(r) => `${r.analysis}:${r.target}`} empty={t('leadership.none')} columns={[
            { key: 'target', title: t('leadership.col.target'), className: 'primary-cell' },
            { key: 'analysis', title: t('leadership.col.analysis'), render: (r) => t(`leadership.analysis.${r.analysis}`) },
            { key: 'area', title: t('leadership.col.area'), render: (r) => dir.area(r.area) || '—' },
            { key: 'summary', title: t('leadership.col.summary') },
          ]} />
          <h2>{t('leadership.recommendations')}</h2>
          <Table rows={data.recommendations} rowKey={(r) => r.id ?? `${r.kind}:${r.target}`}
            empty={data.findings?.length ? t('leadership.not_pushed', { period: data.period }) : t('leadership.none')} columns={[
            { key: 'text', title: t('leadership.col.text'), className: 'primary-cell' },
            { key: 'target', title: t('leadership.col.target') },
            { key: 'department', title: t('leadership.col.department'), render: (r) => dir.department(r.department) || '—' },
            { key: 'status', title: t('leadership.col.status'), render: (r) => <Badge tone="info">{r.status}</Badge> },
            { key: 'instance_id', title: t('leadership.col.instance'),
              render: (r) => (r.instance_id ? <a href={`#/instances/${r.instance_id}`}>#{r.instance_id}</a> : '—') },
          ]} />
          <h2>{t('leadership.focus_items')}</h2>
          <Table rows={data.focus_items} rowKey={(r) => r.id ?? `${r.target_kind}:${r.target}`} empty={t('leadership.none')} columns={[
            { key: 'target', title: t('leadership.col.target'), className: 'primary-cell' },
            { key: 'area', title: t('leadership.col.area'), render: (r) => dir.area(r.area) || '—' },
            { key: 'reason', title: t('leadership.col.reason') },
            { key: 'status', title: t('leadership.col.status'), render: (r) => <Badge tone="warn">{r.status}</Badge> },
          ]} />
        </div>
      ) : null}
    </>
  )
}

// The report's sections in reading order as the server lists them (data.sections, issue 15): each with
// its charts and the analysis' own verdict. A server without them: the four analyses as before.
function reportSections(data) {
  if (Array.isArray(data.sections)) return data.sections.filter((s) => s.key !== 'trend')
  return ANALYSES.map((key) => ({
    key, title: key, verdict: data.analyses?.[key]?.result?.verdict, verdict_en: data.analyses?.[key]?.result?.verdict_en,
    charts: key === 'violation_hotspots' ? (data.charts || []).filter((c) => c.startsWith('hotspots_')) : (CHARTS_OF[key] || []),
  }))
}

function trendCharts(data) {
  const trend = Array.isArray(data.sections) ? data.sections.find((s) => s.key === 'trend') : null
  return trend ? trend.charts : ['trend']
}

/** The analysis' verdict under its charts in the reader's language; nothing when the result states none. */
function Verdict({ section }) {
  const lang = useLang()
  const text = lang === 'en' ? (section.verdict_en || section.verdict) : (section.verdict || section.verdict_en)
  if (!text) return null
  const flagged = /显著偏高|significantly higher/.test(`${section.verdict || ''} ${section.verdict_en || ''}`)
  return <p className={`lead-verdict${flagged ? ' flagged' : ''}`} data-verdict={section.key}>{text}</p>
}

/** Hazards per area: the area_hotspots run's rates with flags, or the hub's plain counts (said untested). */
function AreaHazards({ data, section, chart }) {
  const t = useT()
  const dir = useDirectory()
  const ah = data.area_hazards || { rows: [] }
  const tested = ah.source === 'analysis'
  const columns = [
    { key: 'area', title: t('leadership.col.area'), className: 'primary-cell', render: (r) => `${dir.area(r.area) || r.name || r.area}` },
    { key: 'department', title: t('leadership.col.department'), render: (r) => dir.department(r.department) || r.department || '—' },
    { key: 'hazards', title: t('leadership.col.hazards'), render: (r) => num(r.hazards) },
  ]
  if (tested) {
    columns.push(
      { key: 'exposure', title: t('leadership.col.exposure'), render: (r) => num(r.exposure, 0) },
      { key: 'rate', title: t('leadership.col.hazard_rate', { unit: ah.rate_unit || ah.exposure_unit || '' }), render: (r) => num(r.rate) },
      { key: 'rate_ratio', title: t('leadership.col.rate_ratio'), render: (r) => (r.rate_ratio === null ? '∞' : num(r.rate_ratio)) },
      { key: 'p', title: t('leadership.col.p_value'), render: (r) => (r.p === null || r.p === undefined ? '—' : r.p.toPrecision(2)) },
      { key: 'flagged', title: t('leadership.col.flagged'), render: (r) => (r.flagged ? <Badge tone="danger">{t('leadership.flagged')}</Badge> : '—') },
    )
  }
  return (
    <>
      {tested ? (
        <p className="muted lead-note">{t('leadership.run_info', { id: ah.run_id, at: when(data.analyses?.area_hotspots?.run_at) })}</p>
      ) : (
        <p className="muted lead-note" data-missing="area_hotspots">{t('leadership.area_untested', { period: data.period })}</p>
      )}
      <div className="lead-charts">{section.charts.map(chart)}</div>
      <Verdict section={section} />
      <Table rows={ah.rows || []} rowKey={(r) => r.area} empty={t('leadership.none')} columns={columns}
        rowClassName={(r) => (r.flagged ? 'lead-flagged' : undefined)} />
    </>
  )
}

function Kpis({ indicators }) {
  const t = useT()
  const ind = indicators || {}
  const items = [
    ['hazards_found', num(ind.hazards_found)], ['major_hazards_found', num(ind.major_hazards_found)],
    ['on_time_rectification_rate', pct(ind.on_time_rectification_rate)], ['inspections', num(ind.inspections)],
    ['violations', num(ind.violations)], ['violations_per_1000h', num(ind.violations_per_1000h, 3)],
    ['permits', num(ind.permits)], ['worked_hours', num(ind.worked_hours, 1)],
  ]
  const alerts = ind.alerts || {}
  return (
    <>
      <div className="lead-kpis">
        {items.map(([key, value]) => (
          <div key={key} className="lead-kpi" data-kpi={key}>
            <span className="lead-kpi-label">{t(`leadership.kpi.${key}`)}</span>
            <b className="lead-kpi-value">{value}</b>
          </div>
        ))}
      </div>
      <p className="lead-alerts">
        <span>{t('leadership.alerts')}</span>
        {['red', 'orange', 'yellow', 'blue'].map((g) => (
          <span key={g} className={`lead-alert lead-alert-${g}`} data-alert={g}>{t(`leadership.alert.${g}`)} {alerts[g] ?? 0}</span>
        ))}
      </p>
    </>
  )
}

function AnalysisBody({ name, result }) {
  const t = useT()
  if (name === 'equipment_load') {
    return (
      <>
        <Table rows={result.flagged || []} rowKey={(r) => r.equipment} empty={t('leadership.no_significant')} columns={[
          { key: 'equipment', title: t('leadership.col.equipment'), className: 'primary-cell' },
          { key: 'area', title: t('leadership.col.area') },
          { key: 'high_events', title: t('leadership.col.high_events'), render: (r) => num(r.high_events) },
          { key: 'high_hours', title: t('leadership.col.high_hours'), render: (r) => num(r.high_hours, 0) },
          { key: 'rate_ratio', title: t('leadership.col.rate_ratio'), render: (r) => (r.rate_ratio === null ? '∞' : num(r.rate_ratio)) },
          { key: 'p_value', title: t('leadership.col.p_value'), render: (r) => (r.p_value ?? 0).toPrecision(2) },
        ]} />
      </>
    )
  }
  if (name === 'violation_hotspots') {
    return (
      <>
        <Table rows={result.hotspots || []} rowKey={(r) => `${r.dimension}:${r.group}`} empty={t('leadership.no_significant')} columns={[
          { key: 'group', title: t('leadership.col.group'), className: 'primary-cell', render: (r) => `${r.dimension}: ${r.group}` },
          { key: 'violations', title: t('leadership.col.violations'), render: (r) => num(r.violations) },
          { key: 'rate', title: t('leadership.col.rate'), render: (r) => num(r.rate_per_1000h) },
          { key: 'rate_ratio', title: t('leadership.col.rate_ratio'), render: (r) => (r.rate_ratio === null ? '∞' : num(r.rate_ratio)) },
          { key: 'p_value', title: t('leadership.col.p_value'), render: (r) => (r.p_value ?? 0).toPrecision(2) },
        ]} />
      </>
    )
  }
  if (name === 'plant_load') {
    return (
      <Table rows={result.bands || []} rowKey={(r) => r.band} empty={t('leadership.none')} columns={[
        { key: 'band', title: t('leadership.col.band'), className: 'primary-cell' },
        { key: 'exposure_hours', title: t('leadership.col.running_hours'), render: (r) => num(r.exposure_hours, 0) },
        { key: 'hazards', title: t('leadership.col.hazards'), render: (r) => num(r.hazards) },
        { key: 'hazard_rate', title: t('leadership.col.hazards_per_1000h'), render: (r) => num(r.hazard_rate) },
        { key: 'faults', title: t('leadership.col.faults'), render: (r) => num(r.faults) },
        { key: 'fault_rate', title: t('leadership.col.faults_per_1000h'), render: (r) => num(r.fault_rate) },
      ]} />
    )
  }
  if (name === 'contractor_hotspots') {
    return (
      <Table rows={result.by_contractor || []} rowKey={(r) => r.contractor} empty={t('leadership.none')}
        rowClassName={(r) => (r.flagged ? 'lead-flagged' : undefined)} columns={[
          { key: 'contractor', title: t('leadership.col.contractor'), className: 'primary-cell', render: (r) => r.name || r.contractor },
          { key: 'violations', title: t('leadership.col.violations'), render: (r) => num(r.violations) },
          { key: 'rate', title: t('leadership.col.rate'), render: (r) => num(r.rate) },
          { key: 'rate_ratio', title: t('leadership.col.rate_ratio'), render: (r) => (r.rate_ratio === null ? '∞' : num(r.rate_ratio)) },
          { key: 'p', title: t('leadership.col.p_value'), render: (r) => (r.p === null || r.p === undefined ? '—' : r.p.toPrecision(2)) },
          { key: 'flagged', title: t('leadership.col.flagged'), render: (r) => (r.flagged ? <Badge tone="danger">{t('leadership.flagged')}</Badge> : '—') },
        ]} />
    )
  }
  if (name === 'supervision') {
    if (result.verdict) return null // the verdict under the chart says it
    const cur = result.period || {}
    return (
      <p className="lead-method">{t('leadership.supervision_summary', {
        inspections: num(cur.inspections), with_findings: num(cur.with_findings), precision: pct(cur.precision),
        stop_hours: num(cur.stop_hours, 1), safety_stop_hours: num(cur.safety_stop_hours, 1), interference: pct(cur.interference),
      })}</p>
    )
  }
  if (name === 'permits') {
    return (
      <Table rows={result.by_kind_grade || result.by_grade || []} rowKey={(r) => r.group} empty={t('leadership.none')} columns={[
        { key: 'group', title: t('leadership.col.group'), className: 'primary-cell' },
        { key: 'count', title: t('leadership.col.count'), render: (r) => num(r.count) },
        { key: 'approval', title: t('leadership.col.approval_h'), render: (r) => num(r.approval_h?.median, 1) },
        { key: 'duration', title: t('leadership.col.duration_h'), render: (r) => num(r.duration_h?.median, 1) },
        { key: 'suspensions', title: t('leadership.col.suspensions'), render: (r) => num(r.suspensions) },
      ]} />
    )
  }
  return null
}

// ------------------------------------------------------------------------------------------ assessment

function quarterOf(month) {
  const [y, m] = month.split('-').map(Number)
  return `${y}-Q${Math.ceil(m / 3)}`
}

function monthOf(period) {
  if (MONTH.test(period)) return period
  if (QUARTER.test(period)) {
    const [y, q] = period.split('-Q').map(Number)
    return `${y}-${String(q * 3).padStart(2, '0')}`
  }
  return currentMonth()
}

export function Assessment({ query, me }) {
  const t = useT()
  const fallback = useDefaultMonth(query)
  const period = query?.get('period') || fallback
  const mayPerson = hasRole(me, PERSON_VIEWERS)
  const level = mayPerson && query?.get('level') === 'person' ? 'person' : 'department'
  const go = (p, l) => navigate(`/assessment?period=${p}&level=${l}`, { replace: true })
  const isQuarter = period ? QUARTER.test(period) : false
  return (
    <Page title={t('leadership.assessment')} className="lead">
      <Tabs current="assessment" />
      {period ? (
        <>
          <div className="lead-toolbar">
            <label className="lead-period lead-period-kind">
              <span>{t('leadership.period_kind')}</span>
              <select name="period_kind" value={isQuarter ? 'quarter' : 'month'}
                onChange={(e) => go(e.target.value === 'quarter' ? quarterOf(monthOf(period)) : monthOf(period), level)}>
                <option value="month">{t('leadership.month')}</option>
                <option value="quarter">{t('leadership.quarter')}</option>
              </select>
            </label>
            <label className="lead-period lead-period-month">
              <span>{isQuarter ? period : t('leadership.period')}</span>
              <input type="month" name="period" value={monthOf(period)}
                onChange={(e) => e.target.value && go(isQuarter ? quarterOf(e.target.value) : e.target.value, level)} />
            </label>
            {mayPerson ? (
              <label className="lead-period">
                <span>{t('leadership.level')}</span>
                <select name="level" value={level} onChange={(e) => go(period, e.target.value)}>
                  <option value="department">{t('leadership.level.department')}</option>
                  <option value="person">{t('leadership.level.person')}</option>
                </select>
              </label>
            ) : null}
          </div>
          <AssessmentBody period={period} level={level} />
        </>
      ) : <p className="muted">{t('common.loading')}</p>}
    </Page>
  )
}

function AssessmentBody({ period, level }) {
  const t = useT()
  const { data, error, loading } = useApi(`/assessments?period=${encodeURIComponent(period)}&level=${level}`)
  if (error) return <ProblemBanner error={error} />
  if (!data) return loading ? <p className="muted">{t('common.loading')}</p> : null
  return (
    <div className="lead-assessment" data-period={data.period} data-level={data.level}>
      <details className="lead-weights">
        <summary>{t('leadership.weights')} · {t('leadership.method')}</summary>
        <ul>
          {Object.entries(data.weights || {}).map(([k, w]) => <li key={k}>{t(`leadership.ind.${k}`)}: {num(w)}</li>)}
        </ul>
        {data.method ? <p className="muted">{data.method}</p> : null}
      </details>
      {data.items.length === 0 ? <p className="empty">{t('leadership.no_subjects')}</p> : null}
      <ol className="lead-ranking">
        {data.items.map((item) => (
          <SubjectCard key={item.subject} item={item} period={data.period} level={data.level} />
        ))}
      </ol>
    </div>
  )
}

function SubjectCard({ item, period, level }) {
  const t = useT()
  const dir = useDirectory()
  const score = item.score
  return (
    <li className="card lead-subject" data-subject={item.subject}>
      <header className="lead-subject-head">
        <Badge tone={item.rank === 1 ? 'ok' : 'neutral'}>{item.rank ? t('leadership.rank', { rank: item.rank }) : '—'}</Badge>
        <h3>{level === 'person' ? dir.user(item.subject) : dir.department(item.subject)}</h3>
        <b className="lead-score" data-score={score ?? ''}>{score === null || score === undefined ? t('leadership.no_data') : num(score, 1)}</b>
      </header>
      <div className="lead-bar" aria-hidden="true"><span style={{ width: `${Math.max(0, Math.min(100, score || 0))}%` }} /></div>
      <ul className="lead-indicators">
        {Object.entries(item.indicators || {}).map(([key, ind]) => (
          <Indicator key={key} name={key} ind={ind} period={period} level={level} subject={item.subject} />
        ))}
      </ul>
    </li>
  )
}

const RATIOS = new Set(['plan_completion', 'on_time_rectification', 'supervision_cooperation', 'alert_response'])

function Indicator({ name, ind, period, level, subject }) {
  const t = useT()
  const [open, setOpen] = useState(false)
  const value = ind.value === null || ind.value === undefined ? t('leadership.no_data')
    : RATIOS.has(name) ? pct(ind.value) : num(ind.value, 3)
  const ratio = ind.denominator ? ` (${num(ind.numerator)} / ${num(ind.denominator)})` : ''
  return (
    <li className="lead-indicator" data-indicator={name}>
      <div className="lead-indicator-row">
        <span className="lead-indicator-name" title={ind.definition || ''}>{t(`leadership.ind.${name}`)}</span>
        <span className="lead-indicator-value">{value}<span className="muted">{ratio}</span></span>
      </div>
      <div className="lead-indicator-meta muted">
        {ind.weight !== undefined ? <span>{t('leadership.ind.weight', { w: num(ind.weight) })}</span> : null}
        {ind.score !== undefined && ind.score !== null ? <span>{t('leadership.ind.score', { s: num(ind.score, 3) })}</span> : null}
        {ind.records ? (
          <button type="button" className="link" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
            {open ? t('leadership.hide_records') : t('leadership.records')}
          </button>
        ) : null}
      </div>
      {open ? <Records period={period} level={level} subject={subject} indicator={name} /> : null}
    </li>
  )
}

function Records({ period, level, subject, indicator }) {
  const t = useT()
  const q = new URLSearchParams({ period, level, subject, indicator })
  const { data, error } = useApi(`/assessments/records?${q}`)
  if (error) return <ProblemBanner error={error} />
  if (!data) return <p className="muted">{t('common.loading')}</p>
  const records = data.records || []
  return (
    <div className="lead-records">
      <p className="muted">{t('leadership.records_count', { n: records.length })}{data.definition ? ` · ${data.definition}` : ''}</p>
      <ul>
        {records.slice(0, 200).map((r, i) => (
          <li key={i}>
            {Object.entries(r).map(([k, v]) => (
              <span key={k} className="lead-record-field"><span className="muted">{k}</span> {typeof v === 'object' ? JSON.stringify(v) : String(v)}</span>
            ))}
          </li>
        ))}
      </ul>
    </div>
  )
}
