/**
 * Candidate cookie domains for `domain: 'auto'`, widest first: `a.b.shop.co.uk` gives
 * `co.uk`, `shop.co.uk`, `b.shop.co.uk`, `a.b.shop.co.uk`. The browser refuses public
 * suffixes such as `co.uk`, so the first candidate a test cookie survives on is the widest
 * domain this site may use (Segment's approach; no public-suffix list to ship).
 * IP addresses and single-label hosts (localhost) get no domain: host-only cookies.
 */
export function domainCandidates(hostname: string): string[] {
  const host = hostname.replace(/\.$/, '').toLowerCase()
  if (!host.includes('.') || /^[\d.]+$/.test(host) || host.includes(':')) return []
  const labels = host.split('.')
  const out: string[] = []
  for (let i = labels.length - 2; i >= 0; i--) out.push(labels.slice(i).join('.'))
  return out
}
