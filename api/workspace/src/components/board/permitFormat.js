// Shared by the board and "my permits": how a register row's status and gas sample read.
import { formatDuration } from '../Countdown.jsx'

export const STATUS_TONES = {
  applied: 'neutral', in_review: 'info', issued: 'info', working: 'ok', paused: 'warn',
  suspended: 'danger', expired: 'danger', closed: 'neutral', cancelled: 'neutral',
}

/** Statuses in which people may be at work (gas age and validity matter). */
export const LIVE = ['issued', 'working', 'paused', 'suspended']

export function permitTitle(p, t) {
  const type = t(`permits.type.${p.type}`)
  const grade = p.grade ? t(`permits.grade.${p.grade}`) : ''
  return grade ? `${type} · ${grade}` : type
}

/** {text, stale} of the latest gas sample, or null when there is none. */
export function gasAge(p, t) {
  if (p.gas_sample_age_seconds == null) return null
  const text = t('permits.gas_age', { d: formatDuration(p.gas_sample_age_seconds, t) })
  return { text, stale: Boolean(p.gas_sample_stale), failed: p.gas_sample_pass === false }
}
