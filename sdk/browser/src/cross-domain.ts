/**
 * Cross-domain linking: a link to a sister site carries `ast_xd=<anonymousId>.<timestamp>`,
 * and the landing page adopts the id only while the link is fresh, so a copied or bookmarked
 * URL never merges two people into one visitor.
 */
export const LINK_PARAM = 'ast_xd'

export function decorate(url: string, anonymousId: string, now: number): string {
  const u = new URL(url, location.href)
  u.searchParams.set(LINK_PARAM, `${anonymousId}.${now}`)
  return u.toString()
}

/** The anonymousId a fresh link carries, if any. A link from the future (clock skew > 1 min) is not fresh. */
export function readLinkedId(href: string, now: number, maxAgeMs: number): string | undefined {
  let value: string | null
  try {
    value = new URL(href).searchParams.get(LINK_PARAM)
  } catch {
    return undefined
  }
  const m = value && /^([0-9a-zA-Z-]{8,64})\.(\d{10,14})$/.exec(value)
  if (!m) return undefined
  const age = now - Number(m[2])
  return age <= maxAgeMs && age >= -60_000 ? m[1] : undefined
}
