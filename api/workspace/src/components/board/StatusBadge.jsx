import Badge from '../Badge.jsx'
import { useT } from '../../i18n.js'
import { STATUS_TONES } from './permitFormat.js'

/** A permit's register status as a coloured badge (data-status for tests and styles). */
export default function StatusBadge({ status }) {
  const t = useT()
  return (
    <span className="permit-status" data-status={status}>
      <Badge tone={STATUS_TONES[status] || 'neutral'}>{t(`permits.status.${status}`)}</Badge>
    </span>
  )
}
