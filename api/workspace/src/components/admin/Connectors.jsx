// Installed connectors: name, version, kind, operations with their parameters, configuration keys
// (secrets are never listed by the server), and those that failed to load.
import { useApi } from '../../hooks.js'
import { useT } from '../../i18n.js'
import Badge from '../Badge.jsx'
import Page from '../Page.jsx'
import ProblemBanner from '../ProblemBanner.jsx'
import { AdminTabs } from './forms.jsx'

export default function Connectors({ me }) {
  const t = useT()
  const { data, error } = useApi('/connectors')
  const failures = Object.entries(data?.failures || {})
  return (
    <Page title={t('admin.title')} className="admin">
      <AdminTabs me={me} current="connectors" />
      <h2>{t('admin.connectors.title')}</h2>
      <ProblemBanner error={error} />
      {failures.length ? (
        <div className="problem" role="alert">
          <div className="problem-head"><strong>{t('admin.connectors.failed')}</strong></div>
          <ul>{failures.map(([name, why]) => <li key={name}><code>{name}</code> {String(why)}</li>)}</ul>
        </div>
      ) : null}
      <div className="admin-cards">
        {(data?.connectors || []).map((c) => <ConnectorCard key={c.name} connector={c} />)}
      </div>
    </Page>
  )
}

function ConnectorCard({ connector: c }) {
  const t = useT()
  const config = Object.entries(c.config_schema?.properties || {})
  return (
    <article className="card admin-connector" data-connector={c.name}>
      <header className="admin-connector-head">
        <h3>{c.name}</h3>
        <Badge tone="neutral">{t('admin.connectors.version')} {c.version}</Badge>
        {c.kind ? <Badge tone="info">{c.kind}</Badge> : null}
      </header>
      {c.description ? <p className="muted">{c.description}</p> : null}
      <details>
        <summary>{t('admin.connectors.operations')} ({(c.operations || []).length})</summary>
        <ul className="admin-ops">
          {(c.operations || []).map((op) => (
            <li key={op.name}>
              <code>{c.name}/{op.name}</code>
              {op.description ? <span> — {op.description}</span> : null}
              {op.params?.length ? (
                <ul>
                  {op.params.map((p) => (
                    <li key={p.name}>
                      <code>{p.name}</code> <span className="muted">{p.type}{p.required ? `, ${t('admin.connectors.required')}` : ''}</span>
                      {p.description ? ` — ${p.description}` : ''}
                    </li>
                  ))}
                </ul>
              ) : null}
            </li>
          ))}
        </ul>
      </details>
      {config.length ? (
        <details>
          <summary>{t('admin.connectors.config')} ({config.length})</summary>
          <ul className="admin-ops">
            {config.map(([key, schema]) => (
              <li key={key}>
                <code>{key}</code>{' '}
                {schema.writeOnly ? <span className="muted">{t('admin.connectors.secret')}</span>
                  : c.config && c.config[key] !== undefined ? <span>= {JSON.stringify(c.config[key])}</span> : null}
                {schema.description ? <span className="muted"> — {schema.description}</span> : null}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </article>
  )
}
