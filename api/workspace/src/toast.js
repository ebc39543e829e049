// A short message that survives a route change ("任务已完成" after going back to the list).
import { useSyncExternalStore } from 'react'

let current = null
let seq = 0
const listeners = new Set()

export function toast(text, tone = 'ok', ms = 4000) {
  const id = ++seq
  current = { id, text, tone }
  listeners.forEach((fn) => fn())
  setTimeout(() => {
    if (current && current.id === id) {
      current = null
      listeners.forEach((fn) => fn())
    }
  }, ms)
}

export function useToast() {
  return useSyncExternalStore((fn) => {
    listeners.add(fn)
    return () => listeners.delete(fn)
  }, () => current)
}
