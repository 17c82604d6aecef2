import { CookieAttributes, probeCookieDomain, readCookie, removeCookie, writeCookie } from './cookies'
import { readWebStorage, removeWebStorage, WebStorageKind, writeWebStorage } from './web-storage'

export type StorageStrategy = 'cookieAndLocalStorage' | 'cookie' | 'localStorage' | 'sessionStorage' | 'memory'

type Backend = 'cookie' | WebStorageKind

const BACKENDS: Record<StorageStrategy, Backend[]> = {
  // Read localStorage first: it survives cookie cleaners and Safari's 7-day script-cookie cap.
  cookieAndLocalStorage: ['localStorage', 'cookie'],
  cookie: ['cookie'],
  localStorage: ['localStorage'],
  sessionStorage: ['sessionStorage'],
  memory: [],
}

/**
 * The tracker's own keys on the device, all prefixed with the write key so two projects on
 * one page never collide. Values live in memory too, so a tracker whose storage is refused
 * keeps working for the page's lifetime. Only the tracker decides *whether* a key may be
 * written (consent); this class only knows *where*.
 */
export class DeviceStore {
  #memory: Record<string, string> = {}
  #domain?: string | null

  #strategy: StorageStrategy
  #cookie: CookieAttributes

  constructor(readonly prefix: string, strategy: StorageStrategy, cookie: CookieAttributes) {
    this.#strategy = strategy
    this.#cookie = cookie
  }

  /** Large values (traits, the queue) never go into a cookie: cookies ride on every request. */
  #backends(large: boolean): Backend[] {
    return BACKENDS[this.#strategy].filter((b) => !(large && b === 'cookie'))
  }

  #cookieDomain(): string | undefined {
    if (this.#domain === undefined) {
      const d = this.#cookie.domain
      this.#domain = d === 'auto' ? probeCookieDomain(this.prefix + 'probe', this.#cookie.path) || null : d || null
    }
    return this.#domain || undefined
  }

  /**
   * Read from the first backend that has the key and write it back to those that lost it
   * (a cleared cookie is restored from localStorage and the reverse, like analytics.js).
   */
  get(name: string, large = false): string | undefined {
    const key = this.prefix + name
    const backends = this.#backends(large)
    let value: string | undefined
    const missing: Backend[] = []
    for (const b of backends) {
      const v = b === 'cookie' ? readCookie(key) : readWebStorage(b, key)
      if (v === undefined) missing.push(b)
      else if (value === undefined) value = v
    }
    if (value === undefined) return this.#memory[key]
    for (const b of missing) this.#put(b, key, value)
    this.#memory[key] = value
    return value
  }

  /** Whether the key exists anywhere, without restoring it: safe to ask before consent. */
  has(name: string): boolean {
    const key = this.prefix + name
    return (
      key in this.#memory ||
      readCookie(key) !== undefined ||
      readWebStorage('localStorage', key) !== undefined ||
      readWebStorage('sessionStorage', key) !== undefined
    )
  }

  /** Returns false when no persistent backend took the value (quota, disabled storage, memory strategy). */
  set(name: string, value: string, large = false): boolean {
    const key = this.prefix + name
    this.#memory[key] = value
    let stored = false
    for (const b of this.#backends(large)) stored = this.#put(b, key, value) || stored
    return stored
  }

  #put(b: Backend, key: string, value: string): boolean {
    if (b !== 'cookie') return writeWebStorage(b, key, value)
    writeCookie(key, value, this.#cookie, this.#cookieDomain())
    return true
  }

  /** Remove from memory and from every backend, whatever the strategy: purges must be complete. */
  remove(name: string): void {
    const key = this.prefix + name
    delete this.#memory[key]
    removeCookie(key, this.#cookie.path)
    removeWebStorage('localStorage', key)
    removeWebStorage('sessionStorage', key)
  }

  /** Whether this strategy writes anything at all to localStorage/sessionStorage. */
  hasWebStorage(): boolean {
    return this.#backends(true).length > 0
  }
}
