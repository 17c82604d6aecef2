// The bar above the panels: project, period, interval, the filters in force, sign-out.

import { Whoami } from './api'
import { DIMENSIONS, PERIODS, View, withoutFilter, withPeriod } from './view'

interface Props {
  who: Whoami
  view: View
  onView: (v: View) => void
  onSignOut: () => void
}

export function Header({ who, view, onView, onSignOut }: Props) {
  return (
    <header class="top-bar">
      <h1 class="brand">
        <img src="favicon.svg" alt="" width="24" height="24" />
        <span>
          <span class="sr-only">Assent dashboard: </span>
          <strong>{who.project}</strong> <span class="muted">· {who.role === 'viewer' ? 'viewer' : 'admin'}</span>
        </span>
      </h1>
      <div class="controls">
        <label>
          <span class="sr-only">Period</span>
          <select id="period" value={view.period} onChange={(e) => onView(withPeriod(view, (e.target as HTMLSelectElement).value))}>
            {PERIODS.map(([value, label]) => (
              <option value={value}>{label}</option>
            ))}
          </select>
        </label>
        {view.period === 'custom' && (
          <>
            <label>
              <span class="sr-only">From</span>
              <input type="date" id="from" value={view.from} onChange={(e) => onView({ ...view, from: (e.target as HTMLInputElement).value })} />
            </label>
            <label>
              <span class="sr-only">To</span>
              <input type="date" id="to" value={view.to} onChange={(e) => onView({ ...view, to: (e.target as HTMLInputElement).value })} />
            </label>
          </>
        )}
        <label>
          <span class="sr-only">Interval</span>
          <select id="interval" value={view.interval} onChange={(e) => onView({ ...view, interval: (e.target as HTMLSelectElement).value })}>
            <option value="">Auto</option>
            <option value="hour">By hour</option>
            <option value="day">By day</option>
            <option value="week">By week</option>
          </select>
        </label>
        <button class="link" onClick={onSignOut}>
          Sign out
        </button>
      </div>
      {view.filters.length > 0 && (
        <ul class="filters" aria-label="Filters in force">
          {view.filters.map(([d, v]) => (
            <li data-filter={d}>
              <span>
                {DIMENSIONS[d]} is <strong>{v}</strong>
              </span>
              <button class="icon" aria-label={`Remove filter ${DIMENSIONS[d]} is ${v}`} onClick={() => onView(withoutFilter(view, d))}>
                ×
              </button>
            </li>
          ))}
          {view.filters.length > 1 && (
            <li>
              <button class="link" onClick={() => onView({ ...view, filters: [] })}>
                Clear all
              </button>
            </li>
          )}
        </ul>
      )}
    </header>
  )
}
