/**
 * @assent/browser — consent-first product analytics for the browser.
 *
 *   import { init } from '@assent/browser'
 *   const a = init({ writeKey: 'pk_…', endpoint: 'https://collect.example.com' })
 *   a.setConsent({ analytics: 'granted' }, { source: 'banner' })
 *   a.track('Order Completed', { total: 42 })
 */
import type { AssentConfig } from './config'
import { Tracker } from './tracker'

export type { AssentConfig, ConsentFallback } from './config'
export type { ConsentMode, ConsentSnapshot, ConsentStates, ConsentValue } from './consent'
export type { GoogleConsentParams, TcfData } from './consent-adapters'
export { followTcf, fromGoogleConsentMode, fromTcf, setGoogleConsent } from './consent-adapters'
export type { StorageStrategy } from './device-store'
export type { AnonymousLevel, AssentEvent, EventType, Properties } from './event'
export type { CrossDomain, CrossDomainOptions } from './cross-domain'
export { crossDomain } from './cross-domain'
export type { PeerIds, PeerTracker } from './migration'
export { migrateFrom } from './migration'
export type { Plugin, PluginAccess } from './plugin'
export { serverId } from './server-id'
export type { Identity } from './stored-identity'
export type { ConsentOptions, GroupAccessor, TrackerStats, UserAccessor } from './tracker'
export { Tracker }

const trackers: Record<string, Tracker> = {}

/**
 * Start (or get) the tracker for a write key. Two write keys on one page are two independent
 * trackers; calling init twice with the same key returns the first one.
 */
export function init(config: AssentConfig, defaultEndpoint: string = location.origin): Tracker {
  const key = String(config && config.writeKey)
  return trackers[key] || (trackers[key] = new Tracker(config || ({} as AssentConfig), defaultEndpoint))
}

export const version: string = __VERSION__

declare const __VERSION__: string
