import type { Plugin, PluginAccess } from './plugin'

/**
 * The collector's HttpOnly id cookie (`GET /v1/id`), a plugin (not in the core bundle). Safari
 * caps cookies written by scripts at 7 days; a cookie the collector sets is not capped, so it
 * carries the visitor's id across them. The collector must be same-site with the page.
 *
 *   init({ writeKey: 'pk_…', plugins: [serverId()] })   // IIFE: Assent.serverId()
 *
 * Once identifiers may be used, the tracker asks once per page; a tracker with no id of its
 * own holds delivery until the answer (at most 5 s) and takes the collector's id, in queued
 * events too. When identifiers are forgotten it asks the collector to expire the cookie.
 *
 * `granted` asks the collector to set or refresh the cookie (once per page), anything else to
 * expire it (only the collector can remove an HttpOnly cookie). Calls are chained, so a
 * `denied` never overtakes a `granted`, and only the latest call's answer counts.
 */
export class ServerId {
  #asked = false
  #calls = 0
  #chain: Promise<unknown> = Promise.resolve()
  /** A tracker with no id of its own waits for the collector's (delivery is paused meanwhile). */
  #waiting = false

  constructor(readonly endpoint: string, readonly writeKey: string) {}

  /**
   * Returns whether the caller must wait for the answer: `wait` (it has no id of its own) on
   * a `granted` call. `answered` then gets the collector's id (or undefined: no answer within
   * 5 s), if no later call came meanwhile.
   */
  call(granted: boolean, wait: boolean, answered: (id: string | undefined) => void): boolean {
    if (granted && this.#asked) return false
    this.#asked = granted
    const n = ++this.#calls
    if (wait) this.#waiting = true
    const url = `${this.endpoint}/v1/id?writeKey=${encodeURIComponent(this.writeKey)}&analytics=${granted ? 'granted' : 'denied'}`
    this.#chain = this.#chain.then(async () => {
      let id: string | undefined
      try {
        id = (await (await fetch(url, { credentials: 'include', keepalive: true, signal: AbortSignal.timeout(5000) })).json()).id
      } catch {
        // No answer in time (or no AbortSignal.timeout): the id made meanwhile stays.
      }
      if (n !== this.#calls || !this.#waiting) return
      this.#waiting = false
      answered(id)
    })
    return wait
  }
}

export function serverId(): Plugin {
  let access: PluginAccess
  let handshake: ServerId
  return {
    setup(_, given) {
      access = given
      handshake = new ServerId(given.endpoint, given.writeKey)
    },
    identity(allowed) {
      const wait = allowed && !access.anonymousId()
      const answered = (id: string | undefined) => {
        if (id) access.replaceAnonymousId(id)
        access.hold(false)
      }
      if (handshake.call(allowed, wait, answered)) access.hold(true)
    },
  }
}
