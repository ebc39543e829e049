import { useT } from '../i18n.js'

/**
 * A table that becomes a list of cards below 600 px (styles.css): each cell carries its column title
 * as data-label, shown in front of the value on a card.
 * columns: [{key, title, render(row), className}]; rows; rowKey(row); onRowClick(row) optional.
 */
export default function Table({ columns, rows, rowKey = (r) => r.id, onRowClick, empty, rowClassName }) {
  const t = useT()
  if (!rows || rows.length === 0) return <p className="empty">{empty ?? t('common.empty')}</p>
  return (
    <table className={`table${onRowClick ? ' clickable' : ''}`}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.key} className={c.className}>{c.title}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr
            key={rowKey(row)}
            className={rowClassName ? rowClassName(row) : undefined}
            onClick={onRowClick ? () => onRowClick(row) : undefined}
            onKeyDown={onRowClick ? (e) => { if (e.key === 'Enter') onRowClick(row) } : undefined}
            tabIndex={onRowClick ? 0 : undefined}
          >
            {columns.map((c) => (
              <td key={c.key} data-label={c.title} className={c.className}>
                {c.render ? c.render(row) : row[c.key]}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  )
}
