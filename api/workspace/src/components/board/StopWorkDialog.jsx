import { useEffect, useRef, useState } from 'react'
import { api } from '../../api.js'
import { useT } from '../../i18n.js'
import { hasRole } from '../../session.js'
import ProblemBanner from '../ProblemBanner.jsx'

const PLANT_WIDE = ['supervision', 'plant_leader', 'emergency', 'admin']

/**
 * Confirm a stop-work for one area: asks for the reason, then starts `stop_restart` (its start
 * variables: area, department, stop_scope, equipment_id, stop_reason — bpmn/stop_restart.bpmn).
 * The department is the area's for plant-wide roles; others may only start in their own department.
 */
export default function StopWorkDialog({ area, me, permits, onClose, onStarted }) {
  const t = useT()
  const [reason, setReason] = useState('')
  const [error, setError] = useState(null)
  const [busy, setBusy] = useState(false)
  const [missing, setMissing] = useState(false)
  const input = useRef(null)

  useEffect(() => {
    input.current?.focus()
    const onKey = (e) => { if (e.key === 'Escape') onClose() }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [onClose])

  async function submit(e) {
    e.preventDefault()
    if (!reason.trim()) {
      setMissing(true)
      input.current?.focus()
      return
    }
    setBusy(true)
    setError(null)
    const department = hasRole(me, PLANT_WIDE) ? (area.department || me.department) : me.department
    try {
      const started = await api('/process-instances', {
        method: 'POST',
        body: {
          process_key: 'stop_restart',
          variables: { area: area.code, department, stop_scope: 'area', equipment_id: null, stop_reason: reason.trim() },
        },
      })
      onStarted(started)
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }

  const affected = permits.length
  return (
    <div className="modal-backdrop" onClick={(e) => { if (e.target === e.currentTarget) onClose() }}>
      <form className="modal" role="dialog" aria-modal="true" aria-labelledby="stop-title" onSubmit={submit}>
        <h2 id="stop-title">{t('board.stop.title', { area: area.name || area.code })}</h2>
        <p className="stop-warning">{t('board.stop.explain', { n: affected })}</p>
        <ProblemBanner error={error} />
        <label htmlFor="stop-reason">{t('board.stop.reason')}</label>
        <textarea id="stop-reason" name="stop_reason" ref={input} value={reason} maxLength={500}
          aria-invalid={missing && !reason.trim()} aria-describedby={missing ? 'stop-reason-error' : undefined}
          onChange={(e) => { setReason(e.target.value); setMissing(false) }} placeholder={t('board.stop.reason_hint')} />
        {missing && !reason.trim() ? <p className="form-error" id="stop-reason-error">{t('board.stop.reason_required')}</p> : null}
        <div className="modal-actions">
          <button type="button" onClick={onClose} disabled={busy}>{t('common.cancel')}</button>
          <button type="submit" className="danger" disabled={busy}>
            {busy ? t('board.stop.starting') : t('board.stop.confirm')}
          </button>
        </div>
      </form>
    </div>
  )
}
