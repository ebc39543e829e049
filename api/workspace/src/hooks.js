import { useCallback, useEffect, useRef, useState } from 'react'
import { api } from './api.js'

/**
 * Run `fn` (async, returning data) now and every `ms` milliseconds while the tab is visible (0: once).
 * Returns {data, error, loading, reload}. A slow answer never overwrites a newer one.
 */
export function usePoll(fn, ms, deps = []) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true })
  const fnRef = useRef(fn)
  fnRef.current = fn
  const seq = useRef(0)

  const reload = useCallback(async () => {
    const mine = ++seq.current
    setState((s) => ({ ...s, loading: true }))
    try {
      const data = await fnRef.current()
      if (mine === seq.current) setState({ data, error: null, loading: false })
    } catch (error) {
      if (error?.name === 'AbortError') return
      if (mine === seq.current) setState((s) => ({ data: s.data, error, loading: false }))
    }
  }, [])

  useEffect(() => {
    setState({ data: undefined, error: null, loading: true })
    reload()
    if (!ms) return () => { seq.current++ }
    let timer = null
    const start = () => {
      if (timer === null) timer = setInterval(reload, ms)
    }
    const stop = () => {
      clearInterval(timer)
      timer = null
    }
    const onVisibility = () => {
      if (document.hidden) stop()
      else {
        reload()
        start()
      }
    }
    if (!document.hidden) start()
    document.addEventListener('visibilitychange', onVisibility)
    return () => {
      stop()
      document.removeEventListener('visibilitychange', onVisibility)
      seq.current++
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ms, reload, ...deps])

  return { ...state, reload }
}

/** GET `path` (relative to /api/v1) once, again when the path changes. {data, error, loading, reload} */
export function useApi(path) {
  return usePoll(() => (path ? api(path) : Promise.resolve(null)), 0, [path])
}
