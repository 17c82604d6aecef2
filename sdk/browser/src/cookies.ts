import { domainCandidates } from './cookie-domain'

export interface CookieAttributes {
  /** `auto` (the widest domain the browser accepts), an explicit domain, or empty for host-only. */
  domain: string
  path: string
  maxAgeDays: number
  sameSite: 'Lax' | 'Strict' | 'None'
  secure: boolean
}

/** Chrome refuses to keep a cookie longer than 400 days; asking for more only misleads. */
export const MAX_COOKIE_DAYS = 400

/** All cookies visible to this page, as name → raw (still encoded) value. */
export function allCookies(): Record<string, string> {
  const out: Record<string, string> = {}
  try {
    for (const pair of document.cookie.split('; ')) {
      const eq = pair.indexOf('=')
      if (eq > 0) out[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
  } catch {
    // Sandboxed frames throw on document.cookie: behave as if there were no cookie.
  }
  return out
}

export function readCookie(name: string): string | undefined {
  const raw = allCookies()[name]
  try {
    return raw === undefined ? raw : decodeURIComponent(raw)
  } catch {
    return raw
  }
}

function setCookie(name: string, value: string, path: string, domain: string | undefined, maxAgeSeconds: number, attrs?: CookieAttributes): void {
  let c = `${name}=${encodeURIComponent(value)}; path=${path}; max-age=${maxAgeSeconds}`
  if (domain) c += `; domain=${domain}`
  if (attrs) c += `; samesite=${attrs.sameSite}` + (attrs.secure ? '; secure' : '')
  try {
    document.cookie = c
  } catch {
    // as above
  }
}

export function writeCookie(name: string, value: string, attrs: CookieAttributes, domain: string | undefined): void {
  const days = Math.min(attrs.maxAgeDays, MAX_COOKIE_DAYS)
  setCookie(name, value, attrs.path, domain, Math.round(days * 86400), attrs)
}

/**
 * Remove a cookie wherever an earlier page (or an earlier configuration) may have put it:
 * host-only and on every parent domain. A purge that misses one copy is no purge.
 */
export function removeCookie(name: string, path: string): void {
  for (const domain of [undefined, ...domainCandidates(location.hostname)]) setCookie(name, '', path, domain, 0)
}

/** Find the widest domain that accepts cookies, with a throwaway test cookie that is always removed. */
export function probeCookieDomain(probeName: string, path: string): string | undefined {
  for (const domain of domainCandidates(location.hostname)) {
    setCookie(probeName, '1', path, domain, 60)
    const ok = readCookie(probeName) === '1'
    setCookie(probeName, '', path, domain, 0)
    if (ok) return domain
  }
  return undefined
}
