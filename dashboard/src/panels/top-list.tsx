// A card of top lists (pages, sources, devices, …): one tab per dimension, each row a button
// that filters the whole dashboard by its value.

import { useState } from 'preact/hooks'
import { csvHref, get, TopList, TopRow } from '../api'
import { count, exact, percent } from '../format'
import { useLoaded } from '../loading'
import { DIMENSIONS, View, viewParams } from '../view'

export interface Tab {
  dimension: string
  label: string
  /** What the second column counts. */
  metric?: 'pageviews' | 'events' | 'visits'
}

interface Props {
  title: string
  tabs: Tab[]
  view: View
  onFilter: (dimension: string, value: string) => void
  /** Shown under the list (what it counts). */
  note?: string
}

export function TopCard({ title, tabs, view, onFilter, note }: Props) {
  const [active, setActive] = useState(tabs[0].dimension)
  const [more, setMore] = useState(false)
  const tab = tabs.find((t) => t.dimension === active) || tabs[0]
  const params = viewParams(view)
  params.set('limit', more ? '50' : '10')
  const { data, error, loading } = useLoaded(`${tab.dimension}?${params}`, () => get<TopList>(`top/${tab.dimension}`, params))
  const id = `top-${tabs[0].dimension}`
  const filtered = view.filters.find(([d]) => d === tab.dimension)
  return (
    <section class="card" aria-labelledby={id} data-panel={tabs[0].dimension} aria-busy={loading}>
      <header class="card-head">
        <h2 id={id}>{title}</h2>
        <a class="csv" href={csvHref(`top/${tab.dimension}`, params)} download>
          CSV
        </a>
      </header>
      {tabs.length > 1 && (
        <div class="tabs" role="group" aria-label={`${title}: show`}>
          {tabs.map((t) => (
            <button aria-pressed={t.dimension === tab.dimension} data-tab={t.dimension} onClick={() => setActive(t.dimension)}>
              {t.label}
            </button>
          ))}
        </div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <Rows
        rows={data?.rows || []}
        tab={tab}
        filtered={filtered?.[1]}
        onPick={(value) => onFilter(tab.dimension, value)}
        empty={data && data.rows.length === 0}
      />
      <footer class="card-foot">
        {data && data.totalRows > 10 && (
          <button class="link" onClick={() => setMore(!more)}>
            {more ? 'Show top 10' : `Show more (${exact(data.totalRows)} in all)`}
          </button>
        )}
        {note && <p class="note">{note}</p>}
      </footer>
    </section>
  )
}

function Rows({ rows, tab, filtered, onPick, empty }: { rows: TopRow[]; tab: Tab; filtered?: string; onPick: (v: string) => void; empty?: boolean }) {
  const metric = tab.metric || 'pageviews'
  const top = Math.max(1, ...rows.map((r) => r.visitors || r[metric]))
  if (empty) return <p class="empty">Nothing in this period.</p>
  return (
    <table class="top" data-dimension={tab.dimension}>
      <caption class="sr-only">
        {DIMENSIONS[tab.dimension]} by visitors; choose one to filter the dashboard
      </caption>
      <thead>
        <tr>
          <th scope="col">{DIMENSIONS[tab.dimension]}</th>
          <th scope="col" class="num">Visitors</th>
          <th scope="col" class="num">{metric === 'visits' ? 'Bounce' : metric === 'events' ? 'Events' : 'Views'}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr data-value={r.value} class={filtered === r.value ? 'active' : ''}>
            <th scope="row">
              <button class="row" title={`Filter by ${DIMENSIONS[tab.dimension].toLowerCase()}: ${r.value}`} onClick={() => onPick(r.value)}>
                <span class="bar" style={{ width: `${(100 * (r.visitors || r[metric])) / top}%` }} />
                <span class="row-label">{r.value}</span>
              </button>
            </th>
            <td class="num" data-col="visitors">
              {count(r.visitors)}
            </td>
            <td class="num" data-col="second">
              {metric === 'visits' ? percent(r.visits ? r.bounces / r.visits : 0) : count(r[metric])}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
