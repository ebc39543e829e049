import { useT } from '../i18n.js'

/** An API error (ApiError) or any Error as a banner: title, detail and the failing fields. */
export default function ProblemBanner({ error, onClose }) {
  const t = useT()
  if (!error) return null
  const problem = error.problem || { title: error.message }
  const status = error.status
  let title = problem.title || t('common.error')
  if (status === 0) title = t('common.network_error')
  else if (status === 403) title = t('common.forbidden')
  else if (status === 404) title = t('common.not_found')
  else if (status === 409) title = t('common.conflict')
  else if (status === 422) title = t('common.invalid')
  return (
    <div className="problem" role="alert">
      <div className="problem-head">
        <strong>{title}</strong>
        {status ? <span className="problem-status">{status}</span> : null}
        {onClose ? <button type="button" className="link" onClick={onClose} aria-label={t('common.close')}>×</button> : null}
      </div>
      {problem.detail ? <p>{problem.detail}</p> : null}
      {Array.isArray(problem.errors) && problem.errors.length > 0 ? (
        <ul>
          {problem.errors.map((e, i) => (
            <li key={i}>
              {e.field ? <code>{e.field}</code> : e.file ? <code>{e.file}{e.line ? `:${e.line}` : ''}</code> : null} {e.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  )
}
