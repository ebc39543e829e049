// What an approver or a checker is deciding on: the application's main facts and any SIMOPS conflict,
// read from the task's data (the instance's variables). Fields the task's own form asks for are left
// out (the applicant sees them in the form). Values are rendered as text, never as markup.
import { useT } from '../../i18n.js'

const FACTS = ['work_content', 'location_detail', 'grade_name', 'planned_start', 'planned_end', 'workers',
  'monitor', 'gas_name', 'hazards', 'control_measures', 'validity_end']

function show(value) {
  if (Array.isArray(value)) return value.filter((v) => v !== null && typeof v !== 'object').join('、')
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value)) {
    const d = new Date(value)
    if (!Number.isNaN(d.getTime())) return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' })
  }
  if (value == null || typeof value === 'object') return ''
  return String(value)
}

export default function CaseSummary({ data, form }) {
  const t = useT()
  if (!data) return null
  const asked = new Set(Object.keys(form?.properties || {}))
  const facts = FACTS.filter((k) => !asked.has(k) && show(data[k]) !== '')
  // simops_lookup fills active_permits_in_area before the first review; simops_check adds the reported
  // nearby operations to simops_conflicts after it. Both, once each.
  const seen = new Set()
  const conflicts = [...(Array.isArray(data.simops_conflicts) ? data.simops_conflicts : []),
    ...(Array.isArray(data.active_permits_in_area) ? data.active_permits_in_area : [])]
    .filter((c) => c && typeof c === 'object')
    .filter((c) => { const k = `${c.instance_id ?? ''}|${c.kind}|${c.reason}`; return seen.has(k) ? false : seen.add(k) })
  if (!facts.length && !conflicts.length) return null
  return (
    <>
      {conflicts.length ? (
        <div className="simops-warning" role="note">
          <strong>{t('case.simops')}</strong>
          {asked.has('coordinator') ? <p>{t('case.simops_coordinator')}</p> : null}
          <ul>
            {conflicts.map((c, i) => (
              <li key={i}>{c.instance_id ? <a href={`#/instances/${c.instance_id}`}>{c.business_key || `#${c.instance_id}`}</a> : null} {c.reason}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {facts.length ? (
        <details className="case-summary card" open>
          <summary>{t('case.title')}</summary>
          <dl>
            {facts.map((k) => <div key={k}><dt>{t(`case.${k}`)}</dt><dd>{show(data[k])}</dd></div>)}
          </dl>
        </details>
      ) : null}
    </>
  )
}
