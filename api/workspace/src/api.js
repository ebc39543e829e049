// The one way views talk to the server: api('/tasks?mine=true') → parsed JSON.
// Auth is the HttpOnly session cookie (the browser sends it; no script can read it) plus the CSRF
// token on writes, which session.js hands over with setCsrfToken. Views never see either.

const BASE = '/api/v1'
let csrfToken = null
const unauthorizedListeners = new Set()

/** Called by session.js after login / session restore / logout. */
export function setCsrfToken(token) {
  csrfToken = token
}

/** session.js listens: a 401 on any call means the session ended (expired, revoked, logged out elsewhere). */
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn)
  return () => unauthorizedListeners.delete(fn)
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.problem = problem || { title: `HTTP ${status}`, status }
  }
}

/**
 * Call the API. `body` is sent as JSON, `form` (a FormData) as multipart. Returns the parsed JSON,
 * the text for non-JSON answers, or null for 204. Throws ApiError (with .status and .problem).
 */
export async function api(path, { method = 'GET', body, form, signal, quiet401 = false } = {}) {
  const headers = { Accept: 'application/json, application/problem+json;q=0.9, */*;q=0.1' }
  let payload
  if (form !== undefined) {
    payload = form
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken
  let response
  try {
    response = await fetch(BASE + path, { method, headers, body: payload, credentials: 'same-origin', signal })
  } catch (err) {
    if (err.name === 'AbortError') throw err
    throw new ApiError(0, { title: 'network', detail: String(err.message || err), status: 0 })
  }
  if (response.status === 204) return null
  const type = response.headers.get('Content-Type') || ''
  const data = type.includes('json') ? await response.json().catch(() => null) : await response.text()
  if (!response.ok) {
    const problem = data && typeof data === 'object' ? data : { title: response.statusText, detail: data || undefined }
    if (response.status === 401 && !quiet401) unauthorizedListeners.forEach((fn) => fn())
    throw new ApiError(response.status, { status: response.status, ...problem })
  }
  return data
}
