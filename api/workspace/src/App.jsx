// The shell: session, header with the menu, and the routes every src/views/*.jsx registers
// (`export const routes = [{path, title, nav, roles}]` + `export default Component`).
import { useEffect, useState } from 'react'
import { LANGUAGES, setLang, useLang, useT } from './i18n.js'
import { hasRole, logout, restoreSession, useSession } from './session.js'
import { matchPath, navigate, useLocation } from './router.js'
import { useToast } from './toast.js'
import Login from './Login.jsx'

const modules = import.meta.glob('./views/*.jsx', { eager: true })

/** Every route of every view, in file order then declaration order; `order` sorts the menu. */
export const ROUTES = Object.keys(modules)
  .sort()
  .flatMap((file) => (modules[file].routes || []).map((r) => ({ ...r, component: r.component || modules[file].default })))

const HOME_ORDER = ['/tasks']

function allowed(route, me) {
  return !route.roles || route.roles.length === 0 || hasRole(me, route.roles)
}

function home(me) {
  const nav = ROUTES.filter((r) => r.nav !== false && allowed(r, me))
  const preferred = HOME_ORDER.map((p) => nav.find((r) => r.path === p)).find(Boolean)
  return (preferred || nav[0] || { path: '/' }).path
}

function Toast() {
  const toast = useToast()
  if (!toast) return null
  return (
    <div className={`toast toast-${toast.tone}`} role="status">
      {toast.text}
    </div>
  )
}

function Header({ me, path }) {
  const t = useT()
  const lang = useLang()
  const [open, setOpen] = useState(false)
  useEffect(() => setOpen(false), [path])
  const nav = ROUTES.filter((r) => r.nav !== false && allowed(r, me)).sort((a, b) => (a.order ?? 100) - (b.order ?? 100))
  const next = LANGUAGES[(LANGUAGES.indexOf(lang) + 1) % LANGUAGES.length]
  return (
    <header className="app-header">
      <div className="bar">
        <button type="button" className="menu-toggle" aria-expanded={open} aria-controls="app-nav"
          aria-label={t('nav.menu')} onClick={() => setOpen((o) => !o)}>
          <span aria-hidden="true">☰</span>
        </button>
        <a className="brand" href={`#${home(me)}`}>{t('app.name')}</a>
        <div className="bar-right">
          <button type="button" className="lang" onClick={() => setLang(next)} lang={next === 'zh' ? 'zh-CN' : 'en'}
            aria-label={t('nav.language')}>
            {next === 'zh' ? '中文' : 'EN'}
          </button>
        </div>
      </div>
      <nav id="app-nav" className={open ? 'open' : ''} aria-label={t('nav.menu')}>
        {nav.map((r) => {
          const active = path === r.path || path.startsWith(`${r.path}/`)
          return (
            <a key={r.path} href={`#${r.path}`} className={active ? 'active' : ''} aria-current={active ? 'page' : undefined}
              onClick={() => setOpen(false)}>
              {t(r.title)}
            </a>
          )
        })}
        <span className="nav-user">
          <span className="who" title={me.roles?.join(', ')}>{me.display_name || me.username}</span>
          <button type="button" className="link logout" onClick={() => logout()}>{t('nav.logout')}</button>
        </span>
      </nav>
    </header>
  )
}

function Redirect({ to }) {
  useEffect(() => navigate(to, { replace: true }), [to])
  return null
}

function NotFound() {
  const t = useT()
  return (
    <section className="page">
      <h1>{t('common.not_found')}</h1>
      <p><a href="#/">{t('common.back_home')}</a></p>
    </section>
  )
}

export default function App() {
  const session = useSession()
  const { path, query } = useLocation()
  const t = useT()

  useEffect(() => {
    restoreSession()
  }, [])

  if (session.status === 'loading') return <div className="loading-screen">{t('common.loading')}</div>
  if (session.status !== 'signed-in') return (<><Login /><Toast /></>)

  const me = session.me
  if (path === '/' || path === '/login') return <Redirect to={home(me)} />
  let match = null
  for (const route of ROUTES) {
    const params = matchPath(route.path, path)
    if (params) {
      match = { route, params }
      break
    }
  }
  let content
  if (!match) content = <NotFound />
  else if (!allowed(match.route, me)) content = <section className="page"><h1>{t('common.forbidden')}</h1></section>
  else {
    const View = match.route.component
    content = <View params={match.params} query={query} me={me} />
  }
  return (
    <div className="app">
      <Header me={me} path={path} />
      <main className="app-main" key={path}>{content}</main>
      <Toast />
    </div>
  )
}
