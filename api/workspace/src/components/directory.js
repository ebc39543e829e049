// Names for codes: worker1 → 张工, warehouse → 备件仓库, workshop-1 → 一车间 (GET /me/directory, read once
// per page load). Rows carry codes; people read names. Until the answer arrives (or if it fails) the
// code itself is shown, so nothing waits on it.
import { useEffect, useState } from 'react'
import { api } from '../api.js'

let cached = null
let pending = null

function index(d) {
  const by = (list, key, value) => Object.fromEntries((list || []).map((x) => [x[key], x[value]]))
  return { users: by(d.users, 'username', 'display_name'), areas: by(d.areas, 'code', 'name'),
    departments: by(d.departments, 'code', 'name') }
}

export function loadDirectory() {
  if (cached) return Promise.resolve(cached)
  if (!pending) {
    pending = api('/me/directory')
      .then((d) => { cached = index(d); return cached })
      .catch(() => { pending = null; return { users: {}, areas: {}, departments: {} } })
  }
  return pending
}

/** `{user(u), area(c), department(c)}`: the name, or the code when it has none. */
export function useDirectory() {
  const [d, setD] = useState(cached || { users: {}, areas: {}, departments: {} })
  useEffect(() => {
    let live = true
    loadDirectory().then((x) => { if (live) setD(x) })
    return () => { live = false }
  }, [])
  return {
    user: (u) => (u ? d.users[u] || u : u),
    area: (c) => (c ? d.areas[c] || c : c),
    department: (c) => (c ? d.departments[c] || c : c),
  }
}
