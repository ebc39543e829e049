// 监管看板: permits in progress by area, open alerts by colour, overdue escalations by level, and a
// one-click stop-work per area. Polls the register every 5 s (no reload).
import { useCallback, useMemo, useState } from 'react'
import { api } from '../api.js'
import { useT } from '../i18n.js'
import { usePoll } from '../hooks.js'
import { toast } from '../toast.js'
import Page from '../components/Page.jsx'
import Badge from '../components/Badge.jsx'
import Countdown from '../components/Countdown.jsx'
import ProblemBanner from '../components/ProblemBanner.jsx'
import { useDirectory } from '../components/directory.js'
import StatusBadge from '../components/board/StatusBadge.jsx'
import StopWorkDialog from '../components/board/StopWorkDialog.jsx'
import { LIVE, gasAge, permitTitle } from '../components/board/permitFormat.js'
import '../styles/board.css'

export const routes = [{
  path: '/board', title: 'nav.board', nav: true, order: 30,
  roles: ['supervision', 'plant_leader', 'department_head', 'admin'],
}]

export const POLL_MS = 5000
const ON_BOARD = 'in_review,issued,working,paused,suspended,expired'
const COLOURS = ['red', 'orange', 'yellow', 'blue']
const LEVELS = [3, 2, 1]

async function loadBoard() {
  const [permits, alerts, escalations] = await Promise.all([
    api(`/permits?status=${ON_BOARD}&page_size=500`),
    api('/alerts?status=active&page_size=200'),
    api('/escalations?overdue=true&page_size=200'),
  ])
  // An expired permit stays on the board only until it is withdrawn (its instance still runs).
  permits.items = permits.items.filter((p) => p.status !== 'expired' || p.instance_status !== 'completed')
  return { permits, alerts, escalations }
}

function Conflicts({ permit }) {
  const t = useT()
  if (!permit.simops_conflicts.length) return null
  return (
    <ul className="simops" aria-label={t('board.simops')}>
      {permit.simops_conflicts.map((c, i) => (
        <li key={i}>
          <span aria-hidden="true">⚠ </span>
          {c.kind === 'permit'
            ? t('board.simops_permit', { ref: c.business_key || `#${c.instance_id}`, type: t(`permits.process.${c.process_key}`) })
            : t('board.simops_operation', { kind: t(`board.simops_kind.${c.kind}`), m: c.distance_m ?? '?' })}
          {c.status ? <> · {t(`permits.status.${c.status}`)}</> : null}
        </li>
      ))}
    </ul>
  )
}

function PermitItem({ permit }) {
  const t = useT()
  const dir = useDirectory()
  const gas = LIVE.includes(permit.status) ? gasAge(permit, t) : null
  return (
    <li className={`board-permit status-${permit.status}`} data-permit-id={permit.id}>
      <div className="bp-head">
        <strong>{permitTitle(permit, t)}</strong>
        <StatusBadge status={permit.status} />
      </div>
      <div className="bp-where">
        {permit.location || t('board.no_location')}
        <span className="muted"> · {permit.business_key || `#${permit.id}`} · {dir.user(permit.applicant)}</span>
      </div>
      <div className="bp-facts">
        {gas ? (
          <span className={`gas${gas.stale || gas.failed ? ' stale' : ''}`} data-stale={gas.stale ? 'true' : 'false'}>
            {gas.text}{gas.failed ? ` · ${t('board.gas_failed')}` : ''}
          </span>
        ) : LIVE.includes(permit.status) ? <span className="gas muted">{t('board.gas_none')}</span> : null}
        {permit.validity_end ? (
          <span className="validity">{t('board.validity')} <Countdown until={permit.validity_end} tick={1000} warnSeconds={1800} /></span>
        ) : null}
        {permit.status === 'suspended' && permit.suspended_by ? (
          <span className="suspended-by">{t(`board.suspended_by.${permit.suspended_by}`)}</span>
        ) : null}
      </div>
      <Conflicts permit={permit} />
    </li>
  )
}

function AreaCard({ area, permits, alerts, onStop }) {
  const t = useT()
  const dir = useDirectory()
  const worst = COLOURS.find((c) => alerts.some((a) => a.grade === c))
  const working = permits.filter((p) => LIVE.includes(p.status)).length
  return (
    <article className={`area-card${worst ? ` alert-${worst}` : ''}`} data-area={area.code}>
      <header className="area-head">
        <div className="area-name">
          <h2>{area.name || area.code}</h2>
          <span className="muted">
            {[area.name ? dir.department(area.department) : area.code,
              permits.length ? t('board.area_counts', { n: permits.length, live: working }) : ''].filter(Boolean).join(' · ')}
          </span>
        </div>
        <button type="button" className="danger stop-button" onClick={() => onStop(area)}
          aria-label={t('board.stop.button_for', { area: area.name || area.code })}>
          {t('board.stop.button')}
        </button>
      </header>
      {alerts.length ? (
        <div className="area-alerts">
          {COLOURS.filter((c) => alerts.some((a) => a.grade === c)).map((c) => (
            <span key={c} className={`alert-chip chip-${c}`}>{t(`board.colour.${c}`)} × {alerts.filter((a) => a.grade === c).length}</span>
          ))}
        </div>
      ) : null}
      {permits.length ? (
        <ul className="board-permits">{permits.map((p) => <PermitItem key={p.id} permit={p} />)}</ul>
      ) : <p className="empty">{t('board.no_permits')}</p>}
    </article>
  )
}

function Alerts({ alerts }) {
  const t = useT()
  const dir = useDirectory()
  return (
    <section className="board-panel" aria-labelledby="alerts-title">
      <h2 id="alerts-title">{t('board.alerts')} <span className="count">{alerts.length}</span></h2>
      {alerts.length === 0 ? <p className="empty">{t('board.no_alerts')}</p> : COLOURS.map((c) => {
        const these = alerts.filter((a) => a.grade === c)
        if (!these.length) return null
        return (
          <div key={c} className={`alert-group group-${c}`}>
            <h3><span className={`dot dot-${c}`} aria-hidden="true" />{t(`board.colour.${c}`)} ({these.length})</h3>
            <ul>
              {these.map((a) => (
                <li key={a.id} className={`alert-item alert-${c}`} data-alert-id={a.id}>
                  <div className="ai-title">{a.title || a.rule || a.kind}</div>
                  <div className="ai-facts">
                    <span>{dir.area(a.area) || '—'}</span>
                    <span>{t('board.owner')} {dir.department(a.owner_department) || '—'}</span>
                    {a.status === 'acknowledged' ? <Badge tone="info">{t('board.acknowledged')}</Badge> : null}
                    {a.deadline_at ? <span>{t('board.deadline')} <Countdown until={a.deadline_at} tick={1000} warnSeconds={600} /></span> : null}
                  </div>
                </li>
              ))}
            </ul>
          </div>
        )
      })}
    </section>
  )
}

function Escalations({ items }) {
  const t = useT()
  const dir = useDirectory()
  return (
    <section className="board-panel" aria-labelledby="esc-title">
      <h2 id="esc-title">{t('board.escalations')} <span className="count">{items.length}</span></h2>
      {items.length === 0 ? <p className="empty">{t('board.no_escalations')}</p> : LEVELS.map((level) => {
        const these = items.filter((e) => e.level === level)
        if (!these.length) return null
        return (
          <div key={level} className={`esc-group level-${level}`}>
            <h3>{t(`board.level.${level}`)} ({these.length})</h3>
            <ul>
              {these.map((e) => (
                <li key={e.task_id} className="esc-item" data-level={level}>
                  <div className="ai-title">{e.duty_title}</div>
                  <div className="ai-facts">
                    <span>{dir.department(e.department) || '—'}</span>
                    {e.due_at ? <Countdown until={e.due_at} tick={1000} /> : null}
                  </div>
                </li>
              ))}
            </ul>
          </div>
        )
      })}
    </section>
  )
}

export default function Board({ me }) {
  const t = useT()
  const { data, error, reload } = usePoll(loadBoard, POLL_MS)
  const [stopping, setStopping] = useState(null)

  const areas = useMemo(() => {
    if (!data) return []
    const known = new Map(data.permits.areas.map((a) => [a.code, a]))
    const codes = new Set([...data.permits.items.map((p) => p.area), ...data.alerts.items.map((a) => a.area)]
      .filter(Boolean))
    // Areas with something going on first (alerts, then permits), then the quiet ones.
    const list = [...known.values(), ...[...codes].filter((c) => !known.has(c)).map((c) => ({ code: c, name: c }))]
    const weight = (a) => {
      const alerts = data.alerts.items.filter((x) => x.area === a.code)
      const worst = COLOURS.findIndex((c) => alerts.some((x) => x.grade === c))
      return [worst === -1 ? 9 : worst, -data.permits.items.filter((p) => p.area === a.code).length, a.code]
    }
    return list.sort((a, b) => {
      const [x, y] = [weight(a), weight(b)]
      return x[0] - y[0] || x[1] - y[1] || x[2].localeCompare(y[2])
    })
  }, [data])

  const onStarted = useCallback((started) => {
    const area = stopping
    setStopping(null)
    toast(t('board.stop.started', { area: area.name || area.code, id: started.id }), 'ok', 6000)
    reload()
  }, [stopping, t, reload])

  const permits = data?.permits.items || []
  const counts = {
    working: permits.filter((p) => p.status === 'working').length,
    suspended: permits.filter((p) => p.status === 'suspended').length,
    red: data ? data.alerts.items.filter((a) => a.grade === 'red').length : 0,
    escalations: data ? data.escalations.items.length : 0,
  }
  return (
    <Page title={t('nav.board')} className="board">
      <ProblemBanner error={error} />
      {!data ? <p className="muted">{t('common.loading')}</p> : (
        <>
          <div className="board-summary" aria-live="polite">
            <span className="sum sum-working">{t('board.sum.working', { n: counts.working })}</span>
            <span className={`sum${counts.suspended ? ' sum-bad' : ''}`}>{t('board.sum.suspended', { n: counts.suspended })}</span>
            <span className={`sum${counts.red ? ' sum-bad' : ''}`}>{t('board.sum.red', { n: counts.red })}</span>
            <span className={`sum${counts.escalations ? ' sum-warn' : ''}`}>{t('board.sum.escalations', { n: counts.escalations })}</span>
            <span className="sum muted">{t('board.updated', { s: POLL_MS / 1000 })}</span>
          </div>
          <div className="board-layout">
            <section className="board-areas" aria-label={t('board.areas')}>
              {areas.map((a) => (
                <AreaCard key={a.code} area={a} permits={permits.filter((p) => p.area === a.code)}
                  alerts={data.alerts.items.filter((x) => x.area === a.code)} onStop={setStopping} />
              ))}
            </section>
            <aside className="board-side">
              <Alerts alerts={data.alerts.items} />
              <Escalations items={data.escalations.items} />
            </aside>
          </div>
        </>
      )}
      {stopping ? (
        <StopWorkDialog area={stopping} me={me} permits={permits.filter((p) => p.area === stopping.code && LIVE.includes(p.status))}
          onClose={() => setStopping(null)} onStarted={onStarted} />
      ) : null}
    </Page>
  )
}
