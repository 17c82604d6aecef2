/**
 * Whether a session is recorded. The answer is a hash of the visitor's anonymousId and the
 * session id, so it is the same on every page and in every tab of the session without
 * storing anything, and a new session draws again.
 */
export function isSampled(anonymousId: string, sessionId: number, sampleRate: number): boolean {
  if (sampleRate >= 1) return true
  if (sampleRate <= 0) return false
  return fnv1a(anonymousId + '.' + sessionId) / 0x100000000 < sampleRate
}

/** FNV-1a, 32 bits: well spread for short strings, a few lines, no dependency. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}
