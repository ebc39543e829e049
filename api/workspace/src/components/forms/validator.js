// rjsf's ValidatorType over @cfworker/json-schema, which interprets schemas instead of compiling them to
// code: ajv (rjsf's default validator) uses eval / new Function, which our Content-Security-Policy forbids.
// rjsf calls isValid to resolve if/then/else and to pick oneOf/anyOf options, so those work too.
import { Validator } from '@cfworker/json-schema'
import { createErrorHandler, getDefaultFormState, toErrorSchema, unwrapErrorHandler, validationDataMerge } from '@rjsf/utils'
import { t } from '../../i18n.js'

const DRAFT = '2020-12'
// Errors that only say "something below failed": the errors below are the ones to show.
const AGGREGATE = new Set(['properties', 'items', 'prefixItems', 'allOf', '$ref', '$dynamicRef', '$recursiveRef', 'if',
  'then', 'else', 'dependentSchemas', 'unevaluatedProperties', 'unevaluatedItems', 'contains', 'additionalItems',
  'propertyNames', 'patternProperties', 'dependencies', 'not'])

const compiled = new WeakMap() // schema object → {root: WeakMap(rootSchema → Validator)}

function withRootDefinitions(schema, rootSchema) {
  if (!rootSchema || rootSchema === schema || typeof schema !== 'object') return schema
  const defs = rootSchema.$defs || rootSchema.definitions
  if (!defs) return schema
  // Local refs ('#/$defs/x') of a sub-schema point into the root: carry the root's definitions along.
  return { ...schema, $defs: { ...(rootSchema.$defs || {}), ...(schema.$defs || {}) },
    definitions: { ...(rootSchema.definitions || {}), ...(schema.definitions || {}) } }
}

function validatorFor(schema, rootSchema) {
  if (typeof schema !== 'object' || schema === null) return new Validator(schema !== false, DRAFT, false)
  let byRoot = compiled.get(schema)
  if (!byRoot) {
    byRoot = new Map()
    compiled.set(schema, byRoot)
  }
  const key = rootSchema || schema
  let v = byRoot.get(key)
  if (!v) {
    v = new Validator(withRootDefinitions(schema, rootSchema), DRAFT, false)
    byRoot.set(key, v)
  }
  return v
}

function pointer(schema, location) {
  // '#/properties/a/minLength' → the value in schema (following local $refs), or undefined.
  const parts = location.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~'))
  let node = schema
  for (const part of parts) {
    if (node == null) return undefined
    if (part === '$ref' && typeof node.$ref === 'string' && node.$ref.startsWith('#')) {
      node = pointer(schema, node.$ref)
      continue
    }
    node = node[part]
  }
  return node
}

function instancePath(location) {
  // '#/workers/0' → ['workers', '0']
  return location.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~'))
}

function display(value) {
  if (value === true) return t('common.yes')
  if (value === false) return t('common.no')
  return JSON.stringify(value)
}

function valueAt(data, path) {
  let node = data
  for (const part of path) {
    if (node == null) return undefined
    node = node[part]
  }
  return node
}

function message(unit, schema, value) {
  const limit = pointer(schema, unit.keywordLocation)
  if (value === undefined || value === null || value === '') {
    // An empty list entry or an unanswered field: "required" says what to do, "wrong type" does not.
    if (unit.keyword === 'type' || unit.keyword === 'minLength') return t('validation.required')
  }
  switch (unit.keyword) {
    case 'required': return t('validation.required')
    case 'minLength': return t('validation.minLength', { limit })
    case 'maxLength': return t('validation.maxLength', { limit })
    case 'minimum': return t('validation.minimum', { limit })
    case 'maximum': return t('validation.maximum', { limit })
    case 'exclusiveMinimum': return t('validation.exclusiveMinimum', { limit })
    case 'exclusiveMaximum': return t('validation.exclusiveMaximum', { limit })
    case 'minItems': return t('validation.minItems', { limit })
    case 'maxItems': return t('validation.maxItems', { limit })
    case 'type': return t('validation.type')
    case 'format': return t('validation.format')
    case 'pattern': return t('validation.pattern')
    case 'const': return t('validation.const', { value: display(limit) })
    case 'enum': case 'oneOf': case 'anyOf': return t('validation.choice')
    case 'additionalProperties': case 'false': return t('validation.additional')
    default: return unit.error
  }
}

/** cfworker's output units → rjsf's errors (one per failing field; "required" named at the missing field). */
export function toRjsfErrors(units, schema, formData) {
  const out = []
  const seen = new Set()
  for (const unit of units) {
    if (AGGREGATE.has(unit.keyword)) continue
    if (/\/(oneOf|anyOf)\/\d+(\/|$)/.test(unit.keywordLocation)) continue // inside a branch: the oneOf says it
    let path = instancePath(unit.instanceLocation)
    if (unit.keyword === 'required') {
      const m = /"([^"]+)"/.exec(unit.error)
      if (m) path = [...path, m[1]]
    }
    if (unit.keyword === 'additionalProperties') {
      const m = /"([^"]+)"/.exec(unit.error)
      if (m) path = [...path, m[1]]
    }
    const property = path.length ? `.${path.join('.')}` : ''
    const text = message(unit, schema, unit.keyword === 'required' ? undefined : valueAt(formData, path))
    const key = `${property}|${text}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ name: unit.keyword, property, message: text, params: {}, schemaPath: unit.keywordLocation,
      stack: `${property || '.'} ${text}`.trim() })
  }
  return out
}

export class CfworkerValidator {
  rawValidation(schema, formData) {
    try {
      const result = validatorFor(schema).validate(formData === undefined ? {} : formData)
      return { errors: result.errors }
    } catch (validationError) {
      return { errors: [], validationError }
    }
  }

  validateFormData(formData, schema, customValidate, transformErrors, uiSchema) {
    const raw = this.rawValidation(schema, formData)
    let errors = toRjsfErrors(raw.errors || [], schema, formData)
    if (typeof transformErrors === 'function') errors = transformErrors(errors, uiSchema)
    let errorSchema = toErrorSchema(errors)
    if (raw.validationError) {
      const text = String(raw.validationError.message || raw.validationError)
      errors = [...errors, { stack: text }]
      errorSchema = { ...errorSchema, $schema: { __errors: [text] } }
    }
    if (typeof customValidate !== 'function') return { errors, errorSchema }
    const newFormData = getDefaultFormState(this, schema, formData, schema, true)
    const handler = customValidate(newFormData, createErrorHandler(newFormData), uiSchema)
    return validationDataMerge({ errors, errorSchema }, unwrapErrorHandler(handler))
  }

  isValid(schema, formData, rootSchema) {
    try {
      return validatorFor(schema, rootSchema).validate(formData).valid
    } catch {
      return false
    }
  }

  reset() {}
}

const validator = new CfworkerValidator()
export default validator
