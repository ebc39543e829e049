// The server's 422 `errors: [{field, message}]` as rjsf extraErrors (an ErrorSchema), so each message
// shows beside its field. Fields are paths like 'work_content', 'workers/0', 'nearby_operations/0/kind'
// (engine/form_validation.py), 'variables.area' for start variables; '(root)' / '(form)' is the form.

/** {extraErrors, unplaced}: the error schema for rjsf and the messages that name no field of the form. */
export function toExtraErrors(errors, { prefix = '', schema } = {}) {
  const extra = {}
  const unplaced = []
  for (const e of errors || []) {
    if (!e || typeof e.field !== 'string') continue
    let field = e.field
    if (prefix && field.startsWith(prefix)) field = field.slice(prefix.length)
    const path = field.split(/[/.]/).filter((p) => p !== '' && p !== '(root)' && p !== '(form)' && p !== '(body)')
    if (path.length === 0 || (schema && schema.properties && !(path[0] in schema.properties))) {
      unplaced.push(e)
      if (path.length > 0) continue
    }
    let node = extra
    for (const part of path) node = node[part] ||= {}
    ;(node.__errors ||= []).push(e.message)
  }
  return { extraErrors: extra, unplaced }
}
