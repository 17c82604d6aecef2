import type { Identity } from './stored-identity'
import type { Tracker } from './tracker'

/** What a plugin may use beyond the tracker's public API. */
export interface PluginAccess {
  /** The collector's base URL and the write key, as configured. */
  endpoint: string
  writeKey: string
  /** The anonymousId events carry now, or undefined when they carry none (no consent, an anonymous level, opted out). */
  identifiedId(): string | undefined
  /** The anonymousId held in memory, if any, without making one. */
  anonymousId(): string | undefined
  /** Whether a consent category may be used now. */
  allows(category: string): boolean
  /** Hold delivery (`true`) until released (`false`); nothing happens once the visitor opted out. */
  hold(on: boolean): void
  /** Use `id` as the anonymousId from now on, in queued events too; only while `analytics` is allowed. */
  replaceAnonymousId(id: string): void
}

/**
 * A feature kept out of the core bundle, so sites that do not use it do not download it:
 * cross-domain linking (`crossDomain`), adopting other trackers' ids (`migrateFrom`) and the
 * collector's HttpOnly id cookie (`serverId`).
 *
 *   import { init, crossDomain } from '@assent/browser'
 *   const links = crossDomain({ domains: ['shop-partner.example'] })
 *   init({ writeKey: 'pk_…', plugins: [links] })
 */
export interface Plugin {
  /** Once, when the tracker starts. */
  setup?(tracker: Tracker, access: PluginAccess): void
  /** With `analytics` allowed, once the device has been read: replace or fill in the identifiers to use. */
  adopt?(ids: Identity): void
  /**
   * `true`: identifiers may be used from now on (consent at load or later, leaving an anonymous
   * level, a reset under consent). `false`: the user's identifiers were just forgotten
   * (withdrawal, opt-out, reset, stale identifiers removed at load).
   */
  identity?(allowed: boolean): void
}
