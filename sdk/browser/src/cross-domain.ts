/**
 * Cross-domain linking, a plugin (not in the core bundle): a link to a sister site carries
 * `ast_xd=<anonymousId>.<timestamp>`, and the landing page adopts the id only while the link
 * is fresh, so a copied or bookmarked URL never merges two people into one visitor. Both ends
 * need `analytics` and `marketing` consent.
 *
 *   const links = crossDomain({ domains: ['partner.example'] })   // IIFE: Assent.crossDomain(…)
 *   const a = init({ writeKey: 'pk_…', plugins: [links] })
 *   links.decorateUrl('https://partner.example/offer')            // for links built by script
 */
import type { Plugin, PluginAccess } from './plugin'

/** The core cuts this parameter from every reported URL, whether or not the plugin is loaded. */
export const LINK_PARAM = 'ast_xd'

export interface CrossDomainOptions {
  /** Links to these domains (and their subdomains) are decorated when clicked. */
  domains?: string[]
  /** How old a link may be when the landing page reads it (default 120 s). */
  maxAgeSeconds?: number
}

export interface CrossDomain extends Plugin {
  /** The URL with this visitor's id, when consent allows linking; otherwise the URL unchanged. */
  decorateUrl(url: string): string
}

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

export function crossDomain(options: CrossDomainOptions = {}): CrossDomain {
  const domains = options.domains || []
  // Read as the page loads: the link's age is its age on arrival.
  let linked = readLinkedId(location.href, Date.now(), (options.maxAgeSeconds || 120) * 1000)
  let access: PluginAccess | undefined

  const decorateUrl = (url: string): string => {
    const id = access && access.allows('marketing') && access.identifiedId()
    if (!id) return url
    try {
      return decorate(url, id, Date.now())
    } catch {
      return url
    }
  }

  return {
    decorateUrl,
    setup(_, given) {
      access = given
      if (!domains.length) return
      document.addEventListener(
        'click',
        (e) => {
          const a = e.target instanceof Element ? e.target.closest('a[href]') : null
          if (!(a instanceof HTMLAnchorElement) || a.hostname === location.hostname) return
          if (domains.some((d) => a.hostname === d || a.hostname.endsWith('.' + d))) a.href = decorateUrl(a.href)
        },
        true,
      )
    },
    // A fresh link wins over the id stored here: the visitor just came from the sister site.
    adopt(ids) {
      if (linked && access && access.allows('marketing')) {
        ids.anonymousId = linked
        linked = undefined
      }
    },
  }
}
