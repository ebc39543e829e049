/** A small coloured label. tone: neutral | ok | info | warn | danger */
export default function Badge({ tone = 'neutral', children, title }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  )
}
