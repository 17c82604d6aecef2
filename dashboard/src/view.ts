// What the dashboard shows: period, interval, filters and funnel steps, kept in the URL's
// fragment (never a token) so that a view can be bookmarked and shared.

export const DIMENSIONS: Record<string, string> = {
  page: 'Page',
  entry_page: 'Entry page',
  exit_page: 'Exit page',
  source: 'Source',
  referrer: 'Referrer',
  utm_source: 'UTM source',
  utm_medium: 'UTM medium',
  utm_campaign: 'UTM campaign',
  browser: 'Browser',
  os: 'Operating system',
  device: 'Device',
  country: 'Country',
  event: 'Event',
}

export const PERIODS: [string, string][] = [
  ['today', 'Today'],
  ['yesterday', 'Yesterday'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['90d', 'Last 90 days'],
  ['12mo', 'Last 12 months'],
  ['custom', 'Custom'],
]

export interface View {
  period: string
  from: string
  to: string
  /** '' lets the server choose from the period's length. */
  interval: string
  filters: [string, string][]
  /** `page:/cart`, `event:Order Completed`. */
  steps: string[]
}

export function readView(hash: string): View {
  const p = new URLSearchParams(hash.replace(/^#/, ''))
  const filters: [string, string][] = []
  for (const [k, v] of p) if (k in DIMENSIONS) filters.push([k, v])
  return {
    period: p.get('period') || '30d',
    from: p.get('from') || '',
    to: p.get('to') || '',
    interval: p.get('interval') || '',
    filters,
    steps: p.getAll('step'),
  }
}

export function writeView(v: View): string {
  return '#' + viewParams(v, true).toString()
}

/** The query string of the stats API for a view (funnel steps only when asked for). */
export function viewParams(v: View, withSteps = false): URLSearchParams {
  const p = new URLSearchParams()
  p.set('period', v.period)
  if (v.period === 'custom') {
    p.set('from', v.from)
    p.set('to', v.to)
  }
  if (v.interval) p.set('interval', v.interval)
  for (const [k, value] of v.filters) p.set(k, value)
  if (withSteps) for (const s of v.steps) p.append('step', s)
  return p
}

export function withFilter(v: View, dimension: string, value: string): View {
  return { ...v, filters: [...v.filters.filter(([d]) => d !== dimension), [dimension, value]] }
}

export function withoutFilter(v: View, dimension: string): View {
  return { ...v, filters: v.filters.filter(([d]) => d !== dimension) }
}

/** Another period; a custom one starts as the last 30 days, for the dates to be changed. */
export function withPeriod(v: View, period: string): View {
  if (period !== 'custom' || (v.from && v.to)) return { ...v, period }
  const day = 86_400_000
  const today = Math.floor(Date.now() / day) * day
  const date = (ms: number) => new Date(ms).toISOString().slice(0, 10)
  return { ...v, period, from: date(today - 29 * day), to: date(today) }
}
