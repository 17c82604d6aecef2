// The stats API, as the page uses it: same-origin requests that carry the session cookie (the
// page never sees the token after signing in), JSON in and out.

export interface Whoami {
  project: string
  role: 'admin' | 'viewer'
  name: string
}

export class Unauthorized extends Error {}

async function answer<T>(res: Response): Promise<T> {
  if (res.status === 401) throw new Unauthorized('signed out')
  const body = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(body.message || `HTTP ${res.status}`)
  return body as T
}

export async function whoami(): Promise<Whoami | undefined> {
  const res = await fetch('/v1/stats/session', { credentials: 'same-origin' })
  if (res.status === 401) return undefined
  return answer<Whoami>(res)
}

export async function signIn(token: string): Promise<Whoami> {
  const res = await fetch('/v1/stats/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  })
  if (res.status === 401) throw new Error('That token does not open any project: use an admin or viewer token.')
  return answer<Whoami>(res)
}

export async function signOut(): Promise<void> {
  await fetch('/v1/stats/session', { method: 'DELETE', credentials: 'same-origin', headers: { 'content-type': 'application/json' } })
}

export function get<T>(path: string, params: URLSearchParams): Promise<T> {
  return fetch(`/v1/stats/${path}?${params}`, { credentials: 'same-origin' }).then((r) => answer<T>(r))
}

/** The CSV of a panel: a plain link, the cookie goes with it. */
export function csvHref(path: string, params: URLSearchParams): string {
  const p = new URLSearchParams(params)
  p.set('format', 'csv')
  return `/v1/stats/${path}?${p}`
}

// ── answers ──────────────────────────────────────────────────────────────

export interface Totals {
  visitors: number
  visits: number
  pageviews: number
  events: number
  bounces: number
  durationMs: number
}

export interface TotalsView extends Totals {
  viewsPerVisit: number
  bounceRate: number
  meanDurationMs: number
}

export interface Period {
  from: string
  to: string
  fromMs: number
  toMs: number
}

export interface Traffic {
  project: string
  period: Period
  interval: 'hour' | 'day' | 'week'
  totals: TotalsView
  previous: TotalsView
  series: (Totals & { startMs: number })[]
  previousSeries: (Totals & { startMs: number })[]
}

export interface TopRow {
  value: string
  visitors: number
  visits: number
  pageviews: number
  events: number
  bounces: number
  durationMs: number
}

export interface TopList {
  dimension: string
  rows: TopRow[]
  totalRows: number
}

export interface PropertyRow {
  property: string
  value: string
  visitors: number
  events: number
}

export type FunnelStep = { kind: 'page' | 'event'; name: string }

export interface Funnel {
  steps: { step: FunnelStep; visits: number }[]
  consentedVisits: number
  visits: number
}

export interface Choices {
  total: number
  acceptAll: number
  rejectAll: number
  custom: number
  optOuts: number
  optIns: number
}

export interface Consent {
  visitors: number
  categories: { category: string; granted: number; denied: number; notAnswered: number; unknown: number }[]
  choices: Choices
  choicesByCategory: { category: string; granted: number; denied: number }[]
  bySource: (Choices & { name: string })[]
  byRevision: (Choices & { name: string })[]
  gpcVisitors: number
  dntVisitors: number
  gpcChoices: number
  events: number
  eventsWithoutIdentifiers: number
  series: { startMs: number; choices: Choices; granted: number; denied: number; notAnswered: number; unknown: number }[]
}

export interface PrivacyPoint {
  deletions: number
  exports: number
  retentionRuns: number
  replayViews: number
  eventsDeleted: number
  suppressed: number
}

export interface Privacy {
  totals: PrivacyPoint
  series: (PrivacyPoint & { startMs: number })[]
  oldestEventsMs: number | null
  ledger: { checkedAtMs: number; entries: number; problem: string | null } | null
  retention: { kind: string; keepDays: number | null; nextExpiryMs: number | null }[]
}
