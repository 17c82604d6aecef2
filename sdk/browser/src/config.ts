import type { ConsentMode } from './consent'
import type { CookieAttributes } from './cookies'
import type { StorageStrategy } from './device-store'
import type { AnonymousLevel } from './event'
import type { Plugin } from './plugin'

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
    /**
     * Global Privacy Control denies `marketing` even over an earlier grant (true, default), or
     * opts out entirely (`'optOut'`). It cannot be ignored: the collector honours `Sec-GPC` too.
     */
    respectGPC?: true | 'optOut'
    /** Do-Not-Track means opted out (default false, as in analytics.js and Snowplow). */
    respectDoNotTrack?: boolean
    /** Days before a choice must be asked again: refusal 182 (6 months), acceptance 395 (13 months). */
    expiryDays?: { granted?: number; denied?: number }
  }
  /** Where identifiers are kept. The opt-out marker is kept in a cookie and localStorage whatever this says. */
  storage?: StorageStrategy
  /** `sameSite: 'None'` always sets `secure`: browsers refuse a SameSite=None cookie without it. */
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
  /** Features outside the core bundle: `crossDomain(…)`, `migrateFrom(…)`, `serverId()`. */
  plugins?: Plugin[]
  /**
   * The visitor's anonymousId, from the caller (an app handing over to a web view, a server that
   * knows the device). Used like every identifier: only once `analytics` is allowed.
   */
  deviceId?: string
  /**
   * Read the anonymousId from this URL parameter (`true`: `ast_did`), like Amplitude's
   * `deviceIdFromUrlParam`. Off by default; consent-gated like `deviceId`, which wins over it.
   * The parameter is cut from every reported URL.
   */
  deviceIdFromUrlParam?: boolean | string
}

/** Every option with its default filled in. */
export function resolveConfig(c: AssentConfig, defaultEndpoint: string) {
  const consent = c.consent || {}
  const cookie = c.cookie || {}
  const delivery = c.delivery || {}
  const param = c.deviceIdFromUrlParam
  return {
    writeKey: String(c.writeKey || ''),
    endpoint: (c.endpoint || defaultEndpoint).replace(/\/+$/, ''),
    mode: consent.mode || ('opt-in' as ConsentMode),
    categories: consent.categories || [],
    revision: consent.revision ?? 1,
    whilePending: consent.whilePending || ('queue' as ConsentFallback),
    onDeny: consent.onDeny || ('drop' as ConsentFallback),
    respectGPC: consent.respectGPC === 'optOut' ? consent.respectGPC : (true as const),
    respectDoNotTrack: !!consent.respectDoNotTrack,
    expiryDays: { granted: 395, denied: 182, ...consent.expiryDays },
    storage: c.storage || ('cookieAndLocalStorage' as StorageStrategy),
    cookie: {
      domain: cookie.domain ?? 'auto',
      path: cookie.path || '/',
      maxAgeDays: cookie.maxAgeDays || 365,
      sameSite: cookie.sameSite || 'Lax',
      // `auto`: Secure on https pages, where a plain-http copy of the cookie could leak.
      secure: cookie.sameSite === 'None' || (typeof cookie.secure === 'boolean' ? cookie.secure : location.protocol === 'https:'),
    } as CookieAttributes,
    anonymous: c.anonymous || (false as false | AnonymousLevel),
    sessionTimeoutMs: (c.session?.timeoutMinutes || 30) * 60_000,
    batchSize: delivery.batchSize || 20,
    flushIntervalMs: delivery.flushIntervalMs ?? 1000,
    maxQueue: delivery.maxQueue || 1000,
    maxBatchBytes: delivery.maxBatchBytes || 60_000,
    retryBaseMs: delivery.retryBaseMs || 1000,
    retryMaxMs: delivery.retryMaxMs || 60_000,
    plugins: c.plugins || [],
    deviceId: c.deviceId,
    deviceIdParam: param === true ? 'ast_did' : param || '',
  }
}

export type ResolvedConfig = ReturnType<typeof resolveConfig>
