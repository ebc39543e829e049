import { useEffect } from 'react'
import { t as translate } from '../i18n.js'

/** A view's frame: its title (also the document title), optional actions on the right, the content. */
export default function Page({ title, actions, children, className }) {
  useEffect(() => {
    document.title = `${title} · ${translate('app.name')}`
  }, [title])
  return (
    <section className={`page${className ? ` ${className}` : ''}`}>
      <div className="page-head">
        <h1>{title}</h1>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  )
}
