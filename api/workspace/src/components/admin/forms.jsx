// Form pieces of the admin views: a field with its 422 error beside it, a dialog, tabs, paging.
import { useEffect, useRef, useState } from 'react'
import { useT } from '../../i18n.js'
import ProblemBanner from '../ProblemBanner.jsx'

/**
 * The 422 errors of an ApiError by form field: {password: ['at least 8'], roles: [...]}.
 * "roles.0" (a list item) belongs to the field "roles".
 */
export function fieldErrors(error) {
  const out = {}
  if (!error || error.status !== 422) return out
  for (const e of error.problem?.errors || []) {
    if (!e || !e.field) continue
    const key = String(e.field).split('.')[0]
    ;(out[key] ||= []).push(e.message)
  }
  return out
}

/**
 * After a failed submit, bring the first invalid field into view and focus it (on a phone the error
 * would otherwise sit above the fold, out of sight of the save button just pressed).
 */
export function useFocusFirstError(ref, error) {
  useEffect(() => {
    if (!error || !ref.current) return
    const first = ref.current.querySelector('[aria-invalid="true"]')
    const target = first || ref.current.querySelector('.problem')
    if (!target) return
    target.scrollIntoView({ block: 'center' })
    if (first && typeof first.focus === 'function') first.focus({ preventScroll: true })
  }, [ref, error])
}

/**
 * The banner of a failed submit: a short "fix the marked fields" when every 422 error has its field in
 * the form (`fields`), else the whole problem (a 409, a 403, an error of a field the form lacks).
 */
/**
 * The busy and error state around one write of a dialog: `run(...)` clears the error, disables the
 * buttons and awaits `action`; a failure shows its problem and enables them again, a success leaves
 * them disabled (the dialog closes through the action's onDone).
 */
export function useSubmit(action) {
  const [error, setError] = useState(null)
  const [busy, setBusy] = useState(false)
  async function run(...args) {
    setBusy(true)
    setError(null)
    try {
      await action(...args)
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }
  return { error, busy, run }
}

export function FormProblem({ error, fields, onClose }) {
  const t = useT()
  if (!error) return null
  const errs = error.status === 422 ? error.problem?.errors || [] : []
  const allShown = errs.length > 0 && errs.every((e) => e.field && fields.includes(String(e.field).split('.')[0]))
  if (allShown) {
    return (
      <div className="problem" role="alert">
        <div className="problem-head"><strong>{t('admin.fix_fields')}</strong></div>
      </div>
    )
  }
  return <ProblemBanner error={error} onClose={onClose} />
}

/** A labelled field; `errors` (strings) are shown right below the input, which is marked invalid. */
export function Field({ name, label, hint, errors, children }) {
  const id = `field-${name}`
  const errId = `${id}-error`
  const invalid = Boolean(errors && errors.length)
  return (
    <div className={`field${invalid ? ' field-invalid' : ''}`} data-field={name}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': invalid || undefined, 'aria-describedby': invalid ? errId : undefined })}
      {hint && !invalid ? <div className="field-hint">{hint}</div> : null}
      {invalid ? (
        <div className="field-error" id={errId} role="alert">
          {errors.join('; ')}
        </div>
      ) : null}
    </div>
  )
}

/** A modal dialog (overlay); Escape or the cancel button closes it; focus goes to its first control. */
export function Dialog({ title, children, onClose, labelledBy = 'dialog-title' }) {
  const ref = useRef(null)
  const closeRef = useRef(onClose)
  closeRef.current = onClose
  useEffect(() => {
    // Once, on opening: a re-render (typing in the dialog) must not move the focus back.
    const first = ref.current?.querySelector('textarea, input, select, button.primary, button')
    first?.focus()
    const onKey = (e) => { if (e.key === 'Escape') closeRef.current() }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [])
  return (
    <div className="admin-overlay" onClick={(e) => { if (e.target === e.currentTarget) onClose() }}>
      <div className="admin-dialog card" role="dialog" aria-modal="true" aria-labelledby={labelledBy} ref={ref}>
        <h2 id={labelledBy}>{title}</h2>
        {children}
      </div>
    </div>
  )
}

/** The admin section's tabs; only those the user may open. */
export function AdminTabs({ me, current }) {
  const t = useT()
  const isAdmin = me?.roles?.includes('admin')
  const tabs = [
    ['users', isAdmin], ['departments', isAdmin], ['areas', isAdmin], ['connectors', isAdmin], ['incidents', true],
  ].filter(([, ok]) => ok)
  if (tabs.length < 2) return null
  return (
    <nav className="admin-tabs" aria-label={t('admin.title')}>
      {tabs.map(([name]) => (
        <a key={name} href={`#/admin/${name}`} className={current === name ? 'active' : ''}
          aria-current={current === name ? 'page' : undefined}>
          {t(`admin.tab.${name}`)}
        </a>
      ))}
    </nav>
  )
}

/** Previous / next with "page x of y". */
export function Pager({ page, pageSize, total, onPage }) {
  const t = useT()
  const pages = Math.max(1, Math.ceil((total || 0) / pageSize))
  if (pages <= 1) return null
  return (
    <div className="admin-pager">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>{t('admin.prev')}</button>
      <span>{t('admin.page_of', { page, pages, total })}</span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>{t('admin.next')}</button>
    </div>
  )
}
