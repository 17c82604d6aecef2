// Numbers as people read them.

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 })
const whole = new Intl.NumberFormat('en')

export function count(n: number): string {
  return n >= 100_000 ? compact.format(n) : whole.format(n)
}

export function exact(n: number): string {
  return whole.format(n)
}

export function percent(share: number): string {
  if (!Number.isFinite(share)) return '–'
  return `${(share * 100).toFixed(share < 0.1 && share > 0 ? 1 : 0)}%`
}

export function share(part: number, all: number): string {
  return all > 0 ? percent(part / all) : '–'
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`
}

/** The change from `before` to `now`, as `+12%`, or '' when there is nothing to compare. */
export function change(now: number, before: number): { text: string; direction: 'up' | 'down' | 'flat' } {
  // Nothing before (a new site, or data kept for less than two periods): nothing to compare.
  if (before === 0) return { text: '', direction: 'flat' }
  const c = (now - before) / before
  if (Math.abs(c) < 0.005) return { text: '±0%', direction: 'flat' }
  return { text: `${c > 0 ? '+' : '−'}${Math.abs(c * 100).toFixed(Math.abs(c) < 0.1 ? 1 : 0)}%`, direction: c > 0 ? 'up' : 'down' }
}

export function bucketLabel(ms: number, interval: string): string {
  const d = new Date(ms)
  if (interval === 'hour') return `${d.toISOString().slice(5, 10)} ${d.toISOString().slice(11, 16)}`
  return d.toISOString().slice(0, 10)
}

export function date(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

export function dateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'
}
