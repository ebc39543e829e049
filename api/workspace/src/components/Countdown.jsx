import { useEffect, useState } from 'react'
import { useT } from '../i18n.js'

/** "2 小时 5 分" from a number of seconds (always positive). */
export function formatDuration(seconds, t) {
  const s = Math.max(0, Math.floor(seconds))
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  if (d > 0) return t('time.days_hours', { d, h })
  if (h > 0) return t('time.hours_minutes', { h, m })
  if (m > 0) return t('time.minutes', { m })
  return t('time.seconds', { s })
}

/** Re-renders every `ms`; the current time in ms. */
export function useNow(ms = 30000) {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(id)
  }, [ms])
  return now
}

/**
 * Time left until `until` (ISO string or Date): "剩余 2 小时 5 分", or in red "已逾期 10 分" once past.
 * `warnSeconds`: amber when less than that is left.
 */
export default function Countdown({ until, warnSeconds = 3600, tick = 30000, prefix = true }) {
  const t = useT()
  const now = useNow(tick)
  if (!until) return null
  const end = until instanceof Date ? until.getTime() : Date.parse(until)
  if (Number.isNaN(end)) return null
  const left = (end - now) / 1000
  const text = formatDuration(Math.abs(left), t)
  const cls = left < 0 ? 'countdown overdue' : left < warnSeconds ? 'countdown soon' : 'countdown'
  return (
    <span className={cls} title={new Date(end).toLocaleString()}>
      {left < 0 ? t('time.overdue_by', { d: text }) : prefix ? t('time.left', { d: text }) : text}
    </span>
  )
}
