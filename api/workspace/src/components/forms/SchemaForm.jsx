// A form rendered from a JSON Schema (and UI schema) with react-jsonschema-form, validated in the browser
// without eval (validator.js) and showing the server's 422 errors beside their fields (extraErrors).
import Form from '@rjsf/core'
import { TranslatableString } from '@rjsf/utils'
import { useMemo } from 'react'
import { t, useLang } from '../../i18n.js'
import validator from './validator.js'
import '../../styles/forms.css'

const TRANSLATED = {
  [TranslatableString.AddItemButton]: 'form.add_item',
  [TranslatableString.AddButton]: 'form.add_item',
  [TranslatableString.RemoveButton]: 'form.remove',
  [TranslatableString.YesLabel]: 'common.yes',
  [TranslatableString.NoLabel]: 'common.no',
  [TranslatableString.EmptyArray]: 'form.empty_array',
  [TranslatableString.NowLabel]: 'form.now',
  [TranslatableString.ClearLabel]: 'form.clear',
  [TranslatableString.ErrorsLabel]: 'form.errors',
  [TranslatableString.ArrayItemTitle]: 'form.item',
}

function translateString(str, params) {
  const key = TRANSLATED[str]
  let text = key ? t(key) : str
  if (params) params.forEach((p, i) => { text = text.replace(`%${i + 1}`, p) })
  return text
}

function AddButton({ className, onClick, disabled, registry }) {
  return (
    <button type="button" className={`form-add ${className || ''}`} onClick={onClick} disabled={disabled}>
      + {registry.translateString(TranslatableString.AddItemButton)}
    </button>
  )
}

function RemoveButton({ onClick, disabled, registry, className }) {
  return (
    <button type="button" className={`form-remove ${className || ''}`} onClick={onClick} disabled={disabled}
      aria-label={registry.translateString(TranslatableString.RemoveButton)}>
      {registry.translateString(TranslatableString.RemoveButton)}
    </button>
  )
}

const BEHAVIOUR = { requiredBooleanDefault: 'skip', constAsDefaults: 'never' }
const Nothing = () => null
const TEMPLATES = { ButtonTemplates: { AddButton, RemoveButton, MoveUpButton: Nothing, MoveDownButton: Nothing,
  CopyButton: Nothing } }

/** UI hints every form gets: yes/no as two radio buttons (a safety attestation is an explicit answer),
 * long text as a textarea. The task's own UI schema wins. */
export function defaultUiSchema(schema) {
  const ui = {}
  if (!schema || typeof schema !== 'object') return ui
  for (const [name, prop] of Object.entries(schema.properties || {})) {
    if (!prop || typeof prop !== 'object') continue
    if (prop.type === 'boolean') ui[name] = { 'ui:widget': 'radio', 'ui:options': { inline: true } }
    else if (prop.type === 'string' && !prop.oneOf && !prop.enum && !prop.format && (prop.maxLength ?? 2000) > 200
      && /内容|说明|意见|描述|措施|原因|情况|备注|description|comment|note|content|reason/i.test(`${name} ${prop.title || ''}`)) {
      ui[name] = { 'ui:widget': 'textarea', 'ui:options': { rows: 3 } }
    } else if (prop.type === 'object') ui[name] = defaultUiSchema(prop)
    else if (prop.type === 'array' && prop.items && prop.items.type === 'object') ui[name] = { items: defaultUiSchema(prop.items) }
  }
  return ui
}

function merge(base, over) {
  if (!over || typeof over !== 'object') return base
  const out = { ...base }
  for (const [k, v] of Object.entries(over)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object' ? merge(base[k], v) : v
  }
  return out
}

/** Only the fields the form declares (the task's data also holds the process's other variables). */
export function pickDeclared(schema, data) {
  const out = {}
  const props = (schema && schema.properties) || {}
  for (const k of Object.keys(props)) if (data && data[k] !== undefined && data[k] !== null) out[k] = data[k]
  return out
}

/** What to send: declared, not read-only (the process sets those), nothing undefined. */
export function submittable(schema, data) {
  const out = {}
  const props = (schema && schema.properties) || {}
  for (const [k, v] of Object.entries(data || {})) {
    if (!(k in props) || v === undefined || (props[k] && props[k].readOnly)) continue
    out[k] = v
  }
  return out
}

export default function SchemaForm({ schema, uiSchema, formData, onChange, onSubmit, extraErrors, disabled, children, id }) {
  const lang = useLang()
  const ui = useMemo(() => merge({ 'ui:globalOptions': { orderable: false, copyable: false }, 'ui:submitButtonOptions': { norender: true }, ...defaultUiSchema(schema) }, uiSchema || {}), [schema, uiSchema])
  return (
    <Form
      key={lang}
      id={id}
      className="schema-form"
      schema={schema}
      uiSchema={ui}
      formData={formData}
      validator={validator}
      templates={TEMPLATES}
      translateString={translateString}
      onChange={(e) => onChange && onChange(e.formData)}
      onSubmit={(e) => onSubmit && onSubmit(e.formData)}
      extraErrors={extraErrors}
      showErrorList={false}
      noHtml5Validate
      focusOnFirstError
      omitExtraData
      // A safety form's answers are given, not pre-filled: no "false" for an unanswered yes/no, no first
      // option for an unanswered choice (rjsf's defaults would submit both as if the user had chosen them).
      experimental_defaultFormStateBehavior={BEHAVIOUR}
      disabled={disabled}
    >
      {children}
    </Form>
  )
}
