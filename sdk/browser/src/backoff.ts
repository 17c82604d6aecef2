/**
 * Retry timing for failed deliveries: exponential backoff with "full jitter"
 * (a uniform random delay between 0 and the exponential cap), so thousands of
 * pages that failed together do not retry together.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30))
  return Math.floor(random() * cap)
}

/** `Retry-After` in ms: either delay-seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Which answers mean "try the same batch again later": timeouts, rate limits and server errors. */
export function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}
