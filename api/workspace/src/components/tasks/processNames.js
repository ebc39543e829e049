// Process key → its name (latest version), read once per page load: task rows carry only the key.
import { api } from '../../api.js'

let names = null
let pending = null

export function processNames() {
  if (names) return Promise.resolve(names)
  if (!pending) {
    pending = api('/process-definitions')
      .then((r) => {
        names = Object.fromEntries((r.items || []).map((d) => [d.key, d.name || d.key]))
        return names
      })
      .catch(() => {
        pending = null
        return {}
      })
  }
  return pending
}
