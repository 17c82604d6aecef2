/**
 * What the IIFE add-on bundles share: each puts its functions on `window.Assent`, whether it
 * loads before or after assent.min.js (which keeps what it finds there).
 *   assent-consent-adapters.min.js  Assent.adapters.{followTcf, setGoogleConsent, …}
 *   assent-cross-domain.min.js      Assent.crossDomain(options), a plugin for init({ plugins })
 *   assent-migration.min.js         Assent.migrateFrom(peers), a plugin for init({ plugins })
 *   assent-server-id.min.js         Assent.serverId(), a plugin for init({ plugins })
 */
export function addToGlobal(name: string, value: unknown): void {
  const w = window as unknown as { Assent?: Record<string, unknown> }
  w.Assent = w.Assent || {}
  w.Assent[name] = value
}
