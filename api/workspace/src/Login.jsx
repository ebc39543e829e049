import { useState } from 'react'
import { LANGUAGES, setLang, useLang, useT } from './i18n.js'
import { login } from './session.js'

/** The sign-in page: the session cookie is set by the server; the password leaves with the POST only. */
export default function Login() {
  const t = useT()
  const lang = useLang()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState(null)

  async function submit(e) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await login(username.trim(), password)
    } catch (err) {
      setError(err.status === 401 ? t('login.wrong') : err.status === 0 ? t('common.network_error')
        : err.status === 422 ? t('login.missing') : (err.problem?.detail || err.message))
      setBusy(false)
    }
  }

  return (
    <div className="login-screen">
      <form className="login-card" onSubmit={submit} method="post" action="#" noValidate>
        <div className="login-lang">
          {LANGUAGES.map((l) => (
            <button key={l} type="button" className={l === lang ? 'link active' : 'link'} onClick={() => setLang(l)}>
              {l === 'zh' ? '中文' : 'EN'}
            </button>
          ))}
        </div>
        <h1>{t('app.name')}</h1>
        <p className="muted">{t('login.subtitle')}</p>
        <label>
          {t('login.username')}
          <input name="username" autoComplete="username" autoCapitalize="none" value={username}
            onChange={(e) => setUsername(e.target.value)} required autoFocus />
        </label>
        <label>
          {t('login.password')}
          <input name="password" type="password" autoComplete="current-password" value={password}
            onChange={(e) => setPassword(e.target.value)} required />
        </label>
        {error ? <p className="form-error" role="alert">{error}</p> : null}
        <button type="submit" className="primary" disabled={busy || !username || !password}>
          {busy ? t('login.signing_in') : t('login.submit')}
        </button>
      </form>
    </div>
  )
}
