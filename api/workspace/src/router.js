// Hash routing: '#/tasks/42' → the route '/tasks/:id' with params {id: '42'}.
import { useSyncExternalStore } from 'react'

function currentPath() {
  const raw = window.location.hash.replace(/^#/, '') || '/'
  const [path, query = ''] = raw.split('?')
  return { path: path.startsWith('/') ? path : `/${path}`, query: new URLSearchParams(query) }
}

let location = currentPath()
const listeners = new Set()
window.addEventListener('hashchange', () => {
  location = currentPath()
  listeners.forEach((fn) => fn())
})

/** {path, query}: re-renders on navigation. */
export function useLocation() {
  return useSyncExternalStore((fn) => {
    listeners.add(fn)
    return () => listeners.delete(fn)
  }, () => location)
}

/** Go to a route ('/tasks/42'); replace: no new history entry. */
export function navigate(path, { replace = false } = {}) {
  const hash = `#${path}`
  if (replace) {
    window.history.replaceState(null, '', hash)
    location = currentPath()
    listeners.forEach((fn) => fn())
  } else {
    window.location.hash = hash
  }
}

/** The params of `pattern` ('/tasks/:id') in `path`, or null when it does not match. */
export function matchPath(pattern, path) {
  const a = pattern.split('/').filter(Boolean)
  const b = path.split('/').filter(Boolean)
  if (a.length !== b.length) return null
  const params = {}
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(':')) params[a[i].slice(1)] = decodeURIComponent(b[i])
    else if (a[i] !== b[i]) return null
  }
  return params
}
