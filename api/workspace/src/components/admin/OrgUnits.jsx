// Departments and areas: the list (cards on a phone) and a create / edit form with the 422 errors beside
// their fields. Names are user content: rendered as text by React, never as HTML.
import { useRef, useState } from 'react'
import { api } from '../../api.js'
import { useApi } from '../../hooks.js'
import { useT } from '../../i18n.js'
import { toast } from '../../toast.js'
import Badge from '../Badge.jsx'
import Page from '../Page.jsx'
import ProblemBanner from '../ProblemBanner.jsx'
import Table from '../Table.jsx'
import { AdminTabs, Field, FormProblem, fieldErrors, useFocusFirstError } from './forms.jsx'
import { classLabel, kindLabel, useVocabulary } from './vocabulary.js'

export function Departments({ me }) {
  const t = useT()
  const vocabulary = useVocabulary().data
  const list = useApi('/org/departments')
  const [editing, setEditing] = useState(null)
  const kinds = vocabulary?.department_kinds || []
  return (
    <OrgPage me={me} tab="departments" newLabel={t('admin.departments.new')} onNew={() => setEditing('new')}>
      {editing ? (
        <UnitForm key={editing === 'new' ? 'new' : editing.code} what="departments" unit={editing === 'new' ? null : editing}
          defaults={{ kind: 'production' }}
          fields={[['kind', t('admin.departments.kind'), kinds.map((k) => [k, kindLabel(k)])]]}
          onDone={() => { setEditing(null); list.reload() }} onCancel={() => setEditing(null)} />
      ) : null}
      <ProblemBanner error={list.error} />
      {list.data ? (
        <Table rows={list.data.items} rowKey={(d) => d.code} columns={[
          { key: 'name', title: t('admin.name'), className: 'primary-cell', render: (d) => <span className="admin-unit-name">{d.name}</span> },
          { key: 'code', title: t('admin.code'), render: (d) => <code>{d.code}</code> },
          { key: 'kind', title: t('admin.departments.kind'), render: (d) => <Badge tone="info">{kindLabel(d.kind)}</Badge> },
          { key: 'actions', title: '', className: 'admin-actions-cell',
            render: (d) => <button type="button" className="link" aria-label={`${t('admin.edit')} ${d.code}`}
              onClick={() => { setEditing(d); window.scrollTo(0, 0) }}>{t('admin.edit')}</button> },
        ]} />
      ) : null}
    </OrgPage>
  )
}

export function Areas({ me }) {
  const t = useT()
  const vocabulary = useVocabulary().data
  const list = useApi('/org/areas')
  const departments = useApi('/org/departments').data?.items || []
  const [editing, setEditing] = useState(null)
  const classes = vocabulary?.area_classifications || []
  const deptName = (code) => departments.find((d) => d.code === code)?.name || code
  return (
    <OrgPage me={me} tab="areas" newLabel={t('admin.areas.new')} onNew={() => setEditing('new')}>
      {editing ? (
        <UnitForm key={editing === 'new' ? 'new' : editing.code} what="areas" unit={editing === 'new' ? null : editing}
          defaults={{ classification: '', department: '' }}
          fields={[
            ['department', t('admin.areas.department'), [['', t('admin.none')], ...departments.map((d) => [d.code, `${d.name} (${d.code})`])]],
            ['classification', t('admin.areas.classification'), [['', '—'], ...classes.map((c) => [c, classLabel(c)])]],
          ]}
          onDone={() => { setEditing(null); list.reload() }} onCancel={() => setEditing(null)} />
      ) : null}
      <ProblemBanner error={list.error} />
      {list.data ? (
        <Table rows={list.data.items} rowKey={(a) => a.code} columns={[
          { key: 'name', title: t('admin.name'), className: 'primary-cell', render: (a) => <span className="admin-unit-name">{a.name}</span> },
          { key: 'code', title: t('admin.code'), render: (a) => <code>{a.code}</code> },
          { key: 'department', title: t('admin.areas.department'), render: (a) => (a.department ? deptName(a.department) : '—') },
          { key: 'classification', title: t('admin.areas.classification'),
            render: (a) => <Badge tone={a.classification === 'general' ? 'neutral' : 'warn'}>{classLabel(a.classification)}</Badge> },
          { key: 'actions', title: '', className: 'admin-actions-cell',
            render: (a) => <button type="button" className="link" aria-label={`${t('admin.edit')} ${a.code}`}
              onClick={() => { setEditing(a); window.scrollTo(0, 0) }}>{t('admin.edit')}</button> },
        ]} />
      ) : null}
    </OrgPage>
  )
}

function OrgPage({ me, tab, newLabel, onNew, children }) {
  const t = useT()
  return (
    <Page title={t('admin.title')} className="admin"
      actions={<button type="button" className="primary" onClick={onNew}>{newLabel}</button>}>
      <AdminTabs me={me} current={tab} />
      {children}
    </Page>
  )
}

/** Create (code, name, selects) or edit (name, selects) a department or an area. */
function UnitForm({ what, unit, defaults, fields, onDone, onCancel }) {
  const t = useT()
  const creating = !unit
  const [values, setValues] = useState(() => {
    const v = { code: unit?.code || '', name: unit?.name || '' }
    for (const [name] of fields) v[name] = unit ? unit[name] ?? '' : defaults[name] ?? ''
    return v
  })
  const [error, setError] = useState(null)
  const [busy, setBusy] = useState(false)
  const formRef = useRef(null)
  useFocusFirstError(formRef, error)
  const errs = fieldErrors(error)
  const set = (name) => (e) => setValues((v) => ({ ...v, [name]: e.target.value }))
  const title = creating ? t(`admin.${what}.new`) : t(`admin.${what}.edit`, { code: unit.code })

  async function submit(e) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    const body = { name: values.name }
    for (const [name] of fields) {
      // '' in a select means "none" for a department and "not chosen" otherwise (the server names the field)
      if (name === 'department') body.department = values.department || null
      else if (values[name] !== '' || creating) body[name] = values[name] === '' ? undefined : values[name]
    }
    try {
      if (creating) {
        await api(`/org/${what}`, { method: 'POST', body: { code: values.code.trim(), ...body } })
        toast(t('admin.created'))
      } else {
        await api(`/org/${what}/${encodeURIComponent(unit.code)}`, { method: 'PATCH', body })
        toast(t('admin.saved'))
      }
      onDone()
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }

  return (
    <form ref={formRef} className="card admin-form" onSubmit={submit} noValidate aria-label={title}>
      <h2>{title}</h2>
      <FormProblem error={error} fields={['code', 'name', ...fields.map(([n]) => n)]} onClose={() => setError(null)} />
      <div className="admin-grid">
        {creating ? (
          <Field name="code" label={t('admin.code')} hint={t('admin.code_hint')} errors={errs.code}>
            {(p) => <input {...p} name="code" autoComplete="off" value={values.code} onChange={set('code')} />}
          </Field>
        ) : null}
        <Field name="name" label={t('admin.name')} errors={errs.name}>
          {(p) => <input {...p} name="name" value={values.name} onChange={set('name')} />}
        </Field>
        {fields.map(([name, label, options]) => (
          <Field key={name} name={name} label={label} errors={errs[name]}>
            {(p) => (
              <select {...p} name={name} value={values[name]} onChange={set(name)}>
                {options.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
              </select>
            )}
          </Field>
        ))}
      </div>
      <div className="admin-form-actions">
        <button type="submit" className="primary" disabled={busy}>{t('common.save')}</button>
        <button type="button" onClick={onCancel}>{t('common.cancel')}</button>
      </div>
    </form>
  )
}
