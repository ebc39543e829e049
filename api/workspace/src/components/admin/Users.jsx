// Users: search and filter, a page of cards (a table on a desktop), create / edit with the 422 errors
// beside their fields, deactivate and reset password after a confirmation.
import { useCallback, useRef, useState } from 'react'
import { api } from '../../api.js'
import { useApi, usePoll } from '../../hooks.js'
import { useT } from '../../i18n.js'
import { toast } from '../../toast.js'
import Badge from '../Badge.jsx'
import Page from '../Page.jsx'
import ProblemBanner from '../ProblemBanner.jsx'
import Table from '../Table.jsx'
import { AdminTabs, Dialog, Field, FormProblem, Pager, fieldErrors, useFocusFirstError, useSubmit } from './forms.jsx'
import { roleLabel, useVocabulary } from './vocabulary.js'

const PAGE_SIZE = 20

export default function Users({ me }) {
  const t = useT()
  const vocabulary = useVocabulary().data
  const departments = useApi('/org/departments').data?.items || []
  const [filters, setFilters] = useState({ q: '', role: '', active: '' })
  const [draftQ, setDraftQ] = useState('')
  const [page, setPage] = useState(1)
  const [editing, setEditing] = useState(null) // null | 'new' | user
  const query = new URLSearchParams({ page: String(page), page_size: String(PAGE_SIZE) })
  if (filters.q) query.set('q', filters.q)
  if (filters.role) query.set('role', filters.role)
  if (filters.active) query.set('active', filters.active)
  const list = usePoll(() => api(`/org/users?${query}`), 0, [query.toString()])
  const setFilter = (name, value) => { setFilters((f) => ({ ...f, [name]: value })); setPage(1) }
  const done = useCallback(() => { setEditing(null); list.reload() }, [list])
  const deptName = (code) => departments.find((d) => d.code === code)?.name || code

  return (
    <Page title={t('admin.title')} className="admin"
      actions={<button type="button" className="primary" onClick={() => setEditing('new')}>{t('admin.users.new')}</button>}>
      <AdminTabs me={me} current="users" />
      {editing ? (
        <UserForm key={editing === 'new' ? 'new' : editing.username} user={editing === 'new' ? null : editing}
          vocabulary={vocabulary} departments={departments} onDone={done} onCancel={() => setEditing(null)} />
      ) : null}
      <form className="admin-filters" role="search" onSubmit={(e) => { e.preventDefault(); setFilter('q', draftQ.trim()) }}>
        <input type="search" name="q" value={draftQ} placeholder={t('admin.search_users')} aria-label={t('admin.search_users')}
          onChange={(e) => setDraftQ(e.target.value)} />
        <select name="role" value={filters.role} aria-label={t('admin.users.filter_role')}
          onChange={(e) => setFilter('role', e.target.value)}>
          <option value="">{t('admin.users.filter_role')}: {t('admin.all')}</option>
          {(vocabulary?.roles || []).map((r) => <option key={r.code} value={r.code}>{roleLabel(r.code, vocabulary)}</option>)}
        </select>
        <select name="active" value={filters.active} aria-label={t('admin.users.filter_active')}
          onChange={(e) => setFilter('active', e.target.value)}>
          <option value="">{t('admin.users.filter_active')}: {t('admin.all')}</option>
          <option value="true">{t('admin.users.active_yes')}</option>
          <option value="false">{t('admin.users.active_no')}</option>
        </select>
        <button type="submit">{t('admin.search')}</button>
      </form>
      <ProblemBanner error={list.error} />
      {list.data ? (
        <>
          <Table
            rows={list.data.items}
            rowKey={(u) => u.username}
            rowClassName={(u) => (u.active ? 'admin-row' : 'admin-row inactive')}
            columns={[
              { key: 'username', title: t('admin.users.username'), className: 'primary-cell',
                render: (u) => <span className="admin-user"><span>{u.display_name || u.username}</span>
                  {u.display_name ? <span className="muted admin-code"> {u.username}</span> : null}</span> },
              { key: 'department', title: t('admin.users.department'), render: (u) => (u.department ? deptName(u.department) : '—') },
              { key: 'roles', title: t('admin.users.roles'),
                render: (u) => <span className="admin-badges">{u.roles.map((r) => <Badge key={r} tone="info">{roleLabel(r, vocabulary)}</Badge>)}</span> },
              { key: 'active', title: t('admin.users.active'),
                render: (u) => (u.active ? <Badge tone="ok">{t('admin.users.active_yes')}</Badge>
                  : <Badge tone="danger">{t('admin.users.active_no')}</Badge>) },
              { key: 'actions', title: '', className: 'admin-actions-cell',
                render: (u) => <button type="button" className="link" onClick={() => { setEditing(u); window.scrollTo(0, 0) }}
                  aria-label={`${t('admin.edit')} ${u.username}`}>{t('admin.edit')}</button> },
            ]}
          />
          <Pager page={page} pageSize={PAGE_SIZE} total={list.data.total} onPage={setPage} />
        </>
      ) : null}
    </Page>
  )
}

function UserForm({ user, vocabulary, departments, onDone, onCancel }) {
  const t = useT()
  const creating = !user
  const [values, setValues] = useState(() => ({
    username: user?.username || '', display_name: user?.display_name || '', password: '',
    department: user?.department || '', roles: user?.roles || [],
  }))
  const [error, setError] = useState(null)
  const [busy, setBusy] = useState(false)
  const [confirm, setConfirm] = useState(null) // 'active' | 'password'
  const formRef = useRef(null)
  useFocusFirstError(formRef, error)
  const errs = fieldErrors(error)
  const set = (name) => (e) => setValues((v) => ({ ...v, [name]: e.target.value }))
  const toggleRole = (code) => setValues((v) => ({
    ...v, roles: v.roles.includes(code) ? v.roles.filter((r) => r !== code) : [...v.roles, code] }))

  async function submit(e) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      if (creating) {
        const body = { username: values.username.trim(), password: values.password, roles: values.roles,
          display_name: values.display_name.trim(), department: values.department || null }
        await api('/org/users', { method: 'POST', body })
        toast(t('admin.created'))
      } else {
        const body = { roles: values.roles, department: values.department || null }
        if (values.display_name.trim() !== (user.display_name || '')) body.display_name = values.display_name.trim()
        await api(`/org/users/${encodeURIComponent(user.username)}`, { method: 'PATCH', body })
        toast(t('admin.saved'))
      }
      onDone()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }

  const fields = creating ? ['username', 'display_name', 'password', 'department', 'roles']
    : ['display_name', 'department', 'roles']
  return (
    <>
    <form ref={formRef} className="card admin-form" onSubmit={submit} noValidate aria-label={creating ? t('admin.users.new') : t('admin.users.edit', { username: user.username })}>
      <h2>{creating ? t('admin.users.new') : t('admin.users.edit', { username: user.username })}</h2>
      <FormProblem error={error} fields={fields} onClose={() => setError(null)} />
      <div className="admin-grid">
        {creating ? (
          <Field name="username" label={t('admin.users.username')} errors={errs.username}>
            {(p) => <input {...p} name="username" autoComplete="off" value={values.username} onChange={set('username')} />}
          </Field>
        ) : null}
        <Field name="display_name" label={t('admin.users.display_name')} errors={errs.display_name}>
          {(p) => <input {...p} name="display_name" value={values.display_name} onChange={set('display_name')} />}
        </Field>
        {creating ? (
          <Field name="password" label={t('admin.users.password')} hint={t('admin.users.password_hint')} errors={errs.password}>
            {(p) => <input {...p} name="password" type="password" autoComplete="new-password" value={values.password}
              onChange={set('password')} />}
          </Field>
        ) : null}
        <Field name="department" label={t('admin.users.department')} errors={errs.department}>
          {(p) => (
            <select {...p} name="department" value={values.department} onChange={set('department')}>
              <option value="">{t('admin.none')}</option>
              {departments.map((d) => <option key={d.code} value={d.code}>{d.name} ({d.code})</option>)}
            </select>
          )}
        </Field>
      </div>
      <fieldset className={`field admin-roles${errs.roles ? ' field-invalid' : ''}`} data-field="roles"
        aria-invalid={errs.roles ? true : undefined} aria-describedby={errs.roles ? 'field-roles-error' : undefined}>
        <legend>{t('admin.users.roles')}</legend>
        {(vocabulary?.roles || []).map((r) => (
          <label key={r.code} className="admin-check">
            <input type="checkbox" name="roles" value={r.code} checked={values.roles.includes(r.code)}
              onChange={() => toggleRole(r.code)} />
            <span>{roleLabel(r.code, vocabulary)}</span>
          </label>
        ))}
        {errs.roles ? <div className="field-error" id="field-roles-error" role="alert">{errs.roles.join('; ')}</div> : null}
      </fieldset>
      <div className="admin-form-actions">
        <button type="submit" className="primary" disabled={busy}>{t('common.save')}</button>
        <button type="button" onClick={onCancel}>{t('common.cancel')}</button>
        {!creating ? (
          <>
            <span className="admin-spacer" />
            <button type="button" onClick={() => setConfirm('password')}>{t('admin.users.reset_password')}</button>
            <button type="button" className={user.active ? 'danger' : ''} onClick={() => setConfirm('active')}>
              {user.active ? t('admin.users.deactivate') : t('admin.users.reactivate')}
            </button>
          </>
        ) : null}
      </div>
    </form>
    {confirm === 'active' ? <ActiveDialog user={user} onDone={onDone} onClose={() => setConfirm(null)} /> : null}
    {confirm === 'password' ? <PasswordDialog user={user} onDone={onDone} onClose={() => setConfirm(null)} /> : null}
    </>
  )
}

function ActiveDialog({ user, onDone, onClose }) {
  const t = useT()
  const next = !user.active
  const { error, busy, run: go } = useSubmit(async () => {
    await api(`/org/users/${encodeURIComponent(user.username)}`, { method: 'PATCH', body: { active: next } })
    toast(t(next ? 'admin.users.reactivated' : 'admin.users.deactivated', { username: user.username }))
    onDone()
  })
  return (
    <Dialog title={next ? t('admin.users.reactivate') : t('admin.users.deactivate')} onClose={onClose}>
      <p>{t(next ? 'admin.users.reactivate_q' : 'admin.users.deactivate_q', { username: user.username })}</p>
      <ProblemBanner error={error} />
      <div className="admin-form-actions">
        <button type="button" className={next ? 'primary' : 'danger'} disabled={busy} onClick={go}>{t('common.confirm')}</button>
        <button type="button" onClick={onClose}>{t('common.cancel')}</button>
      </div>
    </Dialog>
  )
}

function PasswordDialog({ user, onDone, onClose }) {
  const t = useT()
  const [password, setPassword] = useState('')
  const { error, busy, run } = useSubmit(async () => {
    await api(`/org/users/${encodeURIComponent(user.username)}/password`, { method: 'POST', body: { password } })
    toast(t('admin.users.reset_done', { username: user.username }))
    onDone()
  })
  const formRef = useRef(null)
  useFocusFirstError(formRef, error)
  const errs = fieldErrors(error)
  function go(e) {
    e.preventDefault()
    run()
  }
  return (
    <Dialog title={t('admin.users.reset_password')} onClose={onClose}>
      <form ref={formRef} onSubmit={go} noValidate>
        <p>{t('admin.users.reset_q', { username: user.username })}</p>
        <FormProblem error={error} fields={['password']} />
        <Field name="new_password" label={t('admin.users.new_password')} hint={t('admin.users.password_hint')} errors={errs.password}>
          {(p) => <input {...p} name="new_password" type="password" autoComplete="new-password" value={password}
            onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <div className="admin-form-actions">
          <button type="submit" className="danger" disabled={busy}>{t('common.confirm')}</button>
          <button type="button" onClick={onClose}>{t('common.cancel')}</button>
        </div>
      </form>
    </Dialog>
  )
}
