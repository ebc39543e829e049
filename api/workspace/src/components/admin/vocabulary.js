// The organisation's codes (GET /org/vocabulary) and their labels in the current language.
import { api } from '../../api.js'
import { useApi } from '../../hooks.js'
import { t } from '../../i18n.js'

let cached = null

/** {data} of GET /org/vocabulary, fetched once per page load (the codes change only with a release). */
export function useVocabulary() {
  const state = useApi(cached ? null : '/org/vocabulary')
  if (state.data) cached = state.data
  return { ...state, data: cached || state.data }
}

export function roleLabel(code, vocabulary) {
  const key = `admin.role.${code}`
  const text = t(key)
  if (text !== key) return text
  return vocabulary?.roles?.find((r) => r.code === code)?.name || code
}

export function kindLabel(code) {
  const key = `admin.kind.${code}`
  const text = t(key)
  return text === key ? code : text
}

export function classLabel(code) {
  const key = `admin.class.${code}`
  const text = t(key)
  return text === key ? code : text
}

export { api }
