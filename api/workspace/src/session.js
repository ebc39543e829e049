// The signed-in user. The session itself is an HttpOnly cookie set by POST /auth/session; what the app
// keeps is the user (for menus and role checks) and the CSRF token, which api.js sends on writes.
// A reload recovers both with GET /auth/session.
import { useSyncExternalStore } from 'react'
import { api, onUnauthorized, setCsrfToken } from './api.js'

// status: 'loading' (asking the server), 'anonymous', 'signed-in'
let state = { status: 'loading', me: null }
const listeners = new Set()

function set(next) {
  state = next
  listeners.forEach((fn) => fn())
}

function subscribe(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

function accept(session) {
  setCsrfToken(session.csrf_token)
  // `name` is what views show (the contract's useMe() shape); the API calls it display_name.
  const me = { ...session.user, name: session.user.display_name || session.user.username }
  set({ status: 'signed-in', me })
  return me
}

function signedOut() {
  setCsrfToken(null)
  set({ status: 'anonymous', me: null })
}

onUnauthorized(() => {
  if (state.status === 'signed-in') signedOut()
})

/** Ask the server whether the browser holds a valid session cookie (on page load). */
export async function restoreSession() {
  try {
    return accept(await api('/auth/session', { quiet401: true }))
  } catch {
    signedOut()
    return null
  }
}

/** Sign in; throws ApiError (401 for wrong credentials). */
export async function login(username, password) {
  return accept(await api('/auth/session', { method: 'POST', body: { username, password }, quiet401: true }))
}

/** Sign out: the server clears the cookie. */
export async function logout() {
  try {
    await api('/auth/session', { method: 'DELETE', quiet401: true })
  } finally {
    signedOut()
  }
}

/** {status, me}: re-renders on login/logout. */
export function useSession() {
  return useSyncExternalStore(subscribe, () => state)
}

/** The current user {username, name, display_name, roles, department}, or null. */
export function useMe() {
  return useSession().me
}

/** True when the user holds one of the roles (no roles given: anyone signed in). */
export function hasRole(me, ...roles) {
  if (!me) return false
  const flat = roles.flat()
  if (flat.length === 0) return true
  return flat.some((r) => me.roles?.includes(r))
}
