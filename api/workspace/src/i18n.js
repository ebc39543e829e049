// t(key, vars) with Chinese first and an English switch. Every src/i18n/*.js adds its keys
// (`export default {zh: {...}, en: {...}}`, namespaced by view: 'board.title').
import { useSyncExternalStore } from 'react'

const modules = import.meta.glob('./i18n/*.js', { eager: true })
const dictionaries = { zh: {}, en: {} }
for (const path of Object.keys(modules).sort()) {
  const dict = modules[path].default || {}
  for (const lang of Object.keys(dict)) Object.assign((dictionaries[lang] ||= {}), dict[lang])
}

export const LANGUAGES = ['zh', 'en']
const STORAGE_KEY = 'anjian.lang'
let lang = readStored()
const listeners = new Set()

function readStored() {
  try {
    const v = window.localStorage.getItem(STORAGE_KEY)
    return LANGUAGES.includes(v) ? v : 'zh'
  } catch {
    return 'zh'
  }
}

function applyDocumentLang() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en'
}
applyDocumentLang()

export function getLang() {
  return lang
}

export function setLang(next) {
  if (!LANGUAGES.includes(next) || next === lang) return
  lang = next
  try {
    window.localStorage.setItem(STORAGE_KEY, next)
  } catch {
    /* private mode: the choice lasts for this page */
  }
  applyDocumentLang()
  listeners.forEach((fn) => fn())
}

function subscribe(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

/** The text of `key` in the current language, `{name}` placeholders filled from vars. */
export function t(key, vars) {
  let text = dictionaries[lang]?.[key] ?? dictionaries.zh[key] ?? key
  if (vars) text = text.replace(/\{(\w+)\}/g, (m, name) => (vars[name] !== undefined ? String(vars[name]) : m))
  return text
}

/** Re-renders the component when the language changes; returns t. */
export function useT() {
  useSyncExternalStore(subscribe, getLang)
  return t
}

/** The current language, re-rendering on change. */
export function useLang() {
  return useSyncExternalStore(subscribe, getLang)
}
