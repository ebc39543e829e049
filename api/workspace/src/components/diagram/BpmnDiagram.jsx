// A BPMN diagram drawn by bpmn-js (NavigatedViewer: scroll/drag/keyboard navigation) with markers.
// Phones get one-finger pan and two-finger pinch on top (diagram-js has no touch support of its own),
// and the first fit keeps labels readable: when the whole diagram would be too small, it zooms to a
// readable scale around the element that matters (an error, the current task) instead.
import { useEffect, useRef, useState } from 'react'
import { useT } from '../../i18n.js'

// Below these scales a task's 12 px label gets too small to read: 8 px on a desktop screen, 9.6 px on
// a phone held at arm's length on site.
const READABLE_DESKTOP = 0.65
const READABLE_PHONE = 0.8
const MIN_ZOOM = 0.15
const MAX_ZOOM = 3

function touchPoint(touches, rect) {
  const n = touches.length
  let x = 0
  let y = 0
  for (const t of touches) {
    x += t.clientX
    y += t.clientY
  }
  x = x / n - rect.left
  y = y / n - rect.top
  const d = n >= 2 ? Math.hypot(touches[0].clientX - touches[1].clientX, touches[0].clientY - touches[1].clientY) : 0
  return { n, x, y, d }
}

function clamp(v, lo, hi) {
  return Math.max(lo, Math.min(hi, v))
}

/** Show the whole diagram, or, when that would be unreadable, a readable part around `focus` ids. */
export function fitReadable(viewer, focus = []) {
  const canvas = viewer.get('canvas')
  const registry = viewer.get('elementRegistry')
  // A collapsed sub-process is a plane of its own (the library's permits are drawn as phases): show the
  // plane that holds what matters, the current task rather than the phase around it; bpmn-js's
  // breadcrumb leads back up. Elements of other planes are not drawn here, so they are no focus.
  const focused = focus.map((id) => registry.get(id)).filter(Boolean)
  const innermost = focused.find((e) => e.type !== 'bpmn:SubProcess' && !e.waypoints) || focused[0]
  const root = innermost && canvas.findRoot(innermost)
  if (root && root !== canvas.getRootElement()) canvas.setRootElement(root)
  const shown = canvas.getRootElement()
  focus = focused.filter((e) => canvas.findRoot(e) === shown).map((e) => e.id)
  canvas.zoom('fit-viewport', 'auto')
  const { outer, inner } = canvas.viewbox()
  const READABLE = outer.width < 600 ? READABLE_PHONE : READABLE_DESKTOP
  if (canvas.zoom() >= READABLE) return
  // the box of an element (a connection: of its waypoints)
  const box = (e) => {
    if (!e) return null
    if (Number.isFinite(e.x)) return { x0: e.x, y0: e.y, x1: e.x + (e.width || 0), y1: e.y + (e.height || 0), start: e.type === 'bpmn:StartEvent' }
    const w = e.waypoints
    if (!w?.length) return null
    const xs = w.map((p) => p.x)
    const ys = w.map((p) => p.y)
    return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) }
  }
  const boxes = focus.map((id) => box(registry.get(id))).filter(Boolean)
  const width = outer.width / READABLE
  const height = outer.height / READABLE
  let cx = inner.x + width / 2 - 20 // no focus: the left end, where the process starts
  let cy = inner.y + inner.height / 2
  if (boxes.length) {
    const all = boxes.reduce((a, b) => ({ x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0),
      x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) }))
    if (all.x1 - all.x0 <= width * 0.9 && all.y1 - all.y0 <= height * 0.9) {
      cx = (all.x0 + all.x1) / 2 // everything that matters fits: centre it
      cy = (all.y0 + all.y1) / 2
    } else {
      // the first one a third from the left: what led to it and what follows are both in view
      const first = boxes[0]
      cx = (first.x0 + first.x1) / 2 + width / 6
      cy = (first.y0 + first.y1) / 2
    }
  } else {
    const start = box(registry.filter((e) => e.type === 'bpmn:StartEvent')[0])
    if (start) cy = (start.y0 + start.y1) / 2
  }
  // never show more empty canvas than needed: centre an axis the diagram does not fill, clamp the other
  const place = (c, size, lo, extent) => (size >= extent + 40
    ? lo + extent / 2 - size / 2
    : Math.min(Math.max(c - size / 2, lo - 20), lo + extent + 20 - size))
  const x = place(cx, width, inner.x, inner.width)
  const y = place(cy, height, inner.y, inner.height)
  if ([x, y, width, height].every(Number.isFinite)) canvas.viewbox({ x, y, width, height })
}

/**
 * props: xml; markers {elementId: className}; overlays [{id, text, tone}]; clickable (Set of ids);
 * onElementClick(id); focus (ids to keep in view on a phone); className; label (aria-label).
 */
export default function BpmnDiagram({ xml, markers, overlays, clickable, onElementClick, focus, className, label }) {
  const t = useT()
  const container = useRef(null)
  const viewerRef = useRef(null)
  const applied = useRef([])
  const handlers = useRef({})
  handlers.current = { onElementClick, clickable, focus }
  const [ready, setReady] = useState(0) // bumps after each import
  const [error, setError] = useState(null)

  // create the viewer once (the library loads on demand)
  useEffect(() => {
    let disposed = false
    let cleanupTouch = () => {}
    import('./viewer.js').then(({ default: NavigatedViewer }) => {
      if (disposed) return
      const viewer = new NavigatedViewer({ container: container.current })
      viewerRef.current = viewer
      viewer.get('eventBus').on('element.click', (e) => {
        const { onElementClick: fn, clickable: ids } = handlers.current
        if (fn && (!ids || ids.has(e.element.id))) fn(e.element.id)
      })
      cleanupTouch = attachTouch(container.current, viewer)
      setReady((n) => n + 1)
    }).catch((err) => setError(err))
    return () => {
      disposed = true
      cleanupTouch()
      viewerRef.current?.destroy()
      viewerRef.current = null
    }
  }, [])

  // (re)draw when the XML changes
  const [imported, setImported] = useState(0)
  useEffect(() => {
    const viewer = viewerRef.current
    if (!viewer || !xml) return
    let stale = false
    viewer.importXML(xml).then(() => {
      if (stale) return
      applied.current = []
      setError(null)
      // Lanes and pools take no clicks here: their hit areas would swallow taps on the tasks inside them.
      const registry = viewer.get('elementRegistry')
      for (const el of registry.filter((e) => e.type === 'bpmn:Lane' || e.type === 'bpmn:Participant')) {
        for (const hit of registry.getGraphics(el).querySelectorAll('.djs-hit')) hit.style.pointerEvents = 'none'
      }
      fitReadable(viewer, handlers.current.focus || [])
      setImported((n) => n + 1)
    }).catch((err) => !stale && setError(err))
    return () => { stale = true }
  }, [xml, ready])

  // markers and overlays follow the data without redrawing
  useEffect(() => {
    const viewer = viewerRef.current
    if (!viewer || !imported) return
    const canvas = viewer.get('canvas')
    const registry = viewer.get('elementRegistry')
    for (const [id, cls] of applied.current) if (registry.get(id)) canvas.removeMarker(id, cls)
    const now = []
    for (const [id, cls] of Object.entries(markers || {})) {
      if (!registry.get(id)) continue
      for (const c of String(cls).split(/\s+/).filter(Boolean)) {
        canvas.addMarker(id, c)
        now.push([id, c])
      }
    }
    for (const id of clickable || []) {
      if (registry.get(id)) {
        canvas.addMarker(id, 'mark-clickable')
        now.push([id, 'mark-clickable'])
      }
    }
    applied.current = now
    const layer = viewer.get('overlays')
    layer.remove({ type: 'anjian' })
    for (const o of overlays || []) {
      if (!registry.get(o.id)) continue
      const el = document.createElement('div')
      el.className = `diagram-flag diagram-flag-${o.tone || 'danger'}`
      el.textContent = o.text // text, never HTML: messages may hold user content
      if (o.title) el.title = o.title
      layer.add(o.id, 'anjian', { position: { top: -14, right: 14 }, html: el })
    }
  }, [markers, overlays, clickable, imported])

  const zoomBy = (f) => {
    const canvas = viewerRef.current?.get('canvas')
    if (canvas) canvas.zoom(clamp(canvas.zoom() * f, MIN_ZOOM, MAX_ZOOM))
  }
  const fitAll = () => viewerRef.current?.get('canvas').zoom('fit-viewport', 'auto')

  return (
    <div className={`diagram${className ? ` ${className}` : ''}`}>
      <div className="diagram-canvas" ref={container} role="img" aria-label={label || t('diagram.label')} />
      <div className="diagram-tools">
        <button type="button" onClick={() => zoomBy(1.25)} aria-label={t('diagram.zoom_in')} title={t('diagram.zoom_in')}>＋</button>
        <button type="button" onClick={() => zoomBy(0.8)} aria-label={t('diagram.zoom_out')} title={t('diagram.zoom_out')}>－</button>
        <button type="button" onClick={fitAll} className="diagram-fit">{t('diagram.fit')}</button>
      </div>
      {!imported && !error ? <p className="diagram-loading muted">{t('common.loading')}</p> : null}
      {error ? <p className="form-error" role="alert">{t('diagram.failed')}: {String(error.message || error)}</p> : null}
    </div>
  )
}

function attachTouch(el, viewer) {
  const canvas = viewer.get('canvas')
  let last = null
  const start = (e) => {
    last = touchPoint(e.touches, el.getBoundingClientRect())
  }
  const move = (e) => {
    if (!last) return
    e.preventDefault() // the diagram moves, not the page
    const now = touchPoint(e.touches, el.getBoundingClientRect())
    if (now.n !== last.n) {
      last = now
      return
    }
    if (now.n >= 2 && last.d > 0) {
      canvas.zoom(clamp(canvas.zoom() * (now.d / last.d), MIN_ZOOM, MAX_ZOOM), { x: now.x, y: now.y })
    }
    canvas.scroll({ dx: now.x - last.x, dy: now.y - last.y })
    last = now
  }
  const end = (e) => {
    last = e.touches.length ? touchPoint(e.touches, el.getBoundingClientRect()) : null
  }
  el.addEventListener('touchstart', start, { passive: true })
  el.addEventListener('touchmove', move, { passive: false })
  el.addEventListener('touchend', end, { passive: true })
  el.addEventListener('touchcancel', end, { passive: true })
  return () => {
    el.removeEventListener('touchstart', start)
    el.removeEventListener('touchmove', move)
    el.removeEventListener('touchend', end)
    el.removeEventListener('touchcancel', end)
  }
}
