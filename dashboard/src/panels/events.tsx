// Custom events, and the properties of the one the dashboard is filtered by.

import { csvHref, get, PropertyRow } from '../api'
import { count } from '../format'
import { useLoaded } from '../loading'
import { View, viewParams } from '../view'
import { TopCard } from './top-list'

interface Props {
  view: View
  onFilter: (dimension: string, value: string) => void
}

export function EventsCard({ view, onFilter }: Props) {
  const event = view.filters.find(([d]) => d === 'event')?.[1]
  return (
    <>
      <TopCard title="Custom events" tabs={[{ dimension: 'event', label: 'Events', metric: 'events' }]} view={view} onFilter={onFilter} note="Choose an event to see its properties." />
      {event && <Properties view={view} event={event} />}
    </>
  )
}

function Properties({ view, event }: { view: View; event: string }) {
  const params = viewParams(view)
  params.set('limit', '30')
  const { data, error, loading } = useLoaded(`properties?${params}`, () => get<{ rows: PropertyRow[] }>('properties', params))
  return (
    <section class="card" aria-labelledby="properties-title" data-panel="properties" aria-busy={loading}>
      <header class="card-head">
        <h2 id="properties-title">Properties of “{event}”</h2>
        <a class="csv" href={csvHref('properties', params)} download>
          CSV
        </a>
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      {data && data.rows.length === 0 && <p class="empty">This event has no properties in this period.</p>}
      {data && data.rows.length > 0 && (
        <table class="top">
          <thead>
            <tr>
              <th scope="col">Property</th>
              <th scope="col">Value</th>
              <th scope="col" class="num">Visitors</th>
              <th scope="col" class="num">Events</th>
            </tr>
          </thead>
          <tbody>
            {data.rows.map((r) => (
              <tr>
                <td>{r.property}</td>
                <td class="row-label">{r.value}</td>
                <td class="num">{count(r.visitors)}</td>
                <td class="num">{count(r.events)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
