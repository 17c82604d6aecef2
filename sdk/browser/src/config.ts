import type { ConsentMode } from './consent'
import type { CookieAttributes } from './cookies'
import type { StorageStrategy } from './device-store'
import type { AnonymousLevel } from './event'
import type { PeerTracker } from './migration'

/** What to do with events while `analytics` is pending (`whilePending`) or denied (`onDeny`). */
export type ConsentFallback = 'queue' | 'anonymous' | 'drop'

export interface AssentConfig {
  /** The project's public write key. Also scopes every key the tracker stores. */
  writeKey: string
  /** Collector base URL; defaults to where the script was loaded from (IIFE) or this page's origin. */
  endpoint?: string
  consent?: {
    /** `opt-in` (default, EU: pending counts as refused) or `opt-out` (US: granted until denied). */
    mode?: ConsentMode
    /** The project's own categories, on top of necessary/analytics/functional/marketing/replay. */
    categories?: string[]
    /** Bump when the policy changes: every visitor is asked again. */
    revision?: string | number
    whilePending?: ConsentFallback
    onDeny?: ConsentFallback
    /** Global Privacy Control denies `marketing` (true, default), opts out entirely (`'optOut'`), or is ignored (false). */
    respectGPC?: boolean | 'optOut'
    /** Do-Not-Track means opted out (default false, as in analytics.js and Snowplow). */
    respectDoNotTrack?: boolean
    /** Days before a choice must be asked again: refusal 182 (6 months), acceptance 395 (13 months). */
    expiryDays?: { granted?: number; denied?: number }
  }
  storage?: StorageStrategy
  cookie?: Partial<Omit<CookieAttributes, 'secure'>> & { secure?: boolean | 'auto' }
  /** Start in an anonymous level (see `enableAnonymous`). */
  anonymous?: false | AnonymousLevel
  session?: { timeoutMinutes?: number }
  delivery?: {
    batchSize?: number
    flushIntervalMs?: number
    /** Cap of the delivery queue and of the consent-pending queue; the oldest events go first. */
    maxQueue?: number
    maxBatchBytes?: number
    retryBaseMs?: number
    retryMaxMs?: number
  }
  crossDomain?: {
    /** Links to these domains (and their subdomains) are decorated on click. */
    domains?: string[]
    maxAgeSeconds?: number
  }
  /** Adopt the anonymous/device id these trackers left in this browser. */
  migrateFrom?: PeerTracker[]
  /** With `analytics` allowed, refresh the collector's HttpOnly id cookie (`GET /v1/id`, not capped by Safari ITP) and adopt its id when ours was lost; expire it on withdrawal, optOut() and reset(). */
  serverId?: boolean
}

/** Every option with its default filled in. */
export function resolveConfig(c: AssentConfig, defaultEndpoint: string) {
  const consent = c.consent || {}
  const cookie = c.cookie || {}
  const delivery = c.delivery || {}
  const link = c.crossDomain || {}
  return {
    writeKey: String(c.writeKey || ''),
    endpoint: (c.endpoint || defaultEndpoint).replace(/\/+$/, ''),
    mode: consent.mode || ('opt-in' as ConsentMode),
    categories: consent.categories || [],
    revision: consent.revision ?? 1,
    whilePending: consent.whilePending || ('queue' as ConsentFallback),
    onDeny: consent.onDeny || ('drop' as ConsentFallback),
    respectGPC: consent.respectGPC ?? true,
    respectDoNotTrack: !!consent.respectDoNotTrack,
    expiryDays: { granted: 395, denied: 182, ...consent.expiryDays },
    storage: c.storage || ('cookieAndLocalStorage' as StorageStrategy),
    cookie: {
      domain: cookie.domain ?? 'auto',
      path: cookie.path || '/',
      maxAgeDays: cookie.maxAgeDays || 365,
      sameSite: cookie.sameSite || 'Lax',
      // `auto`: Secure on https pages, where a plain-http copy of the cookie could leak.
      secure: typeof cookie.secure === 'boolean' ? cookie.secure : location.protocol === 'https:',
    } as CookieAttributes,
    anonymous: c.anonymous || (false as false | AnonymousLevel),
    sessionTimeoutMs: (c.session?.timeoutMinutes || 30) * 60_000,
    batchSize: delivery.batchSize || 20,
    flushIntervalMs: delivery.flushIntervalMs ?? 1000,
    maxQueue: delivery.maxQueue || 1000,
    maxBatchBytes: delivery.maxBatchBytes || 60_000,
    retryBaseMs: delivery.retryBaseMs || 1000,
    retryMaxMs: delivery.retryMaxMs || 60_000,
    crossDomains: link.domains || [],
    linkMaxAgeMs: (link.maxAgeSeconds || 120) * 1000,
    migrateFrom: c.migrateFrom || [],
    serverId: c.serverId,
  }
}

export type ResolvedConfig = ReturnType<typeof resolveConfig>
