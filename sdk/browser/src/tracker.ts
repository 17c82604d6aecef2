import { AssentConfig, resolveConfig, ResolvedConfig } from './config'
import { CATEGORIES, Consent, ConsentRecord, ConsentSnapshot, ConsentStates } from './consent'
import { allCookies } from './cookies'
import { decorate, LINK_PARAM, readLinkedId } from './cross-domain'
import { Delivery, DeliveryStats } from './delivery'
import { DeviceStore } from './device-store'
import { AnonymousLevel, AssentEvent, EventType, Properties, QueuedEvent } from './event'
import { EventQueue } from './event-queue'
import { findPeerAnonymousId } from './migration'
import { pageContext } from './page-context'
import { hasDoNotTrack, hasGlobalPrivacyControl } from './privacy-signals'
import { readSession, Session, touchSession } from './session'
import { uuid } from './uuid'
import { readWebStorage, writeWebStorage } from './web-storage'

declare const __VERSION__: string

/** The collector refuses events over 32 KB; refusing them here keeps the rest of the batch moving. */
const MAX_EVENT_BYTES = 32 * 1024

/** Keys this tracker may leave on a device, all prefixed by the write key. */
const IDENTITY_KEYS = ['aid', 'uid', 'traits', 'gid', 'gtraits']
const LARGE_KEYS = ['traits', 'gtraits', 'queue']

/** How a new event is captured right now. */
type CaptureMode = 'off' | 'hold' | 'identified' | AnonymousLevel

/** A built event and the consent categories its content depends on. */
interface Captured {
  event: AssentEvent
  needs: string[]
}

interface Identity {
  anonymousId?: string
  userId?: string
  traits: Properties
  groupId?: string
  groupTraits: Properties
}

export interface ConsentOptions {
  /** Who made the choice: `banner`, `api` (default), `tcf`, `google`, … Recorded in the ledger. */
  source?: string
}

/** Accessors in the style of analytics.js: call with a value to set it, without to read it. */
export interface UserAccessor {
  id(value?: string | null): string | undefined
  anonymousId(value?: string | null): string | undefined
  traits(value?: Properties): Properties
}
export interface GroupAccessor {
  id(value?: string | null): string | undefined
  traits(value?: Properties): Properties
}

export interface TrackerStats extends DeliveryStats {
  queued: number
  /** Events held in memory while consent is pending (`whilePending: 'queue'`). */
  held: number
}

function parse<T>(raw: string | undefined): T | undefined {
  if (raw === undefined) return undefined
  try {
    return JSON.parse(raw) as T
  } catch {
    return undefined
  }
}

/** UTF-8 length without allocating (Blob or TextEncoder cost ten times more per event). */
function utf8Bytes(s: string): number {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0x7f) n += c > 0x7ff && (c < 0xd800 || c > 0xdfff) ? 2 : 1
  }
  return n
}

/** A consent event reduced to what the ledger needs once identifiers are no longer allowed. */
function withoutIdentifiers(item: QueuedEvent): QueuedEvent {
  const { anonymousId, userId, groupId, sessionId, sequence, traits, ...event } = item.event
  event.context.anonymous = 'server'
  return { event, needs: [], bytes: item.bytes }
}

/**
 * One tracker per write key. It decides, for every call, what consent allows: which
 * identifiers an event carries, what may be written to the device, what may be sent.
 */
export class Tracker {
  #cfg: ResolvedConfig
  #store: DeviceStore
  #consent: Consent
  #queue: EventQueue
  #delivery: Delivery
  #stats: DeliveryStats = { sent: 0, retries: 0, dropped: {} }
  /** Events captured while consent is pending, in memory only, waiting for identifiers. */
  #held: Captured[] = []
  #ids: Identity = { traits: {}, groupTraits: {} }
  #session?: Session
  #anonymousLevel: false | AnonymousLevel
  #anonymousStorage: 'memory' | 'sessionStorage' = 'memory'
  #anonymousSession?: Session
  /** The visitor opted out (a marker on the device) … */
  #optedOut: boolean
  /** … or their browser signals it (Do-Not-Track, or GPC mapped to opting out): nothing is written. */
  #signalOptOut = false
  #listeners: Array<(consent: ConsentSnapshot) => void> = []
  /** An anonymousId from a fresh cross-domain link, adopted once consent allows it. */
  #linkedId?: string
  #saving = false
  /** `GET /v1/id` (option `serverId`): asked with `granted` on this page; calls made (chained, in order); delivery waits for the id. */
  #idAsked = false
  #idCalls = 0
  #idChain: Promise<unknown> = Promise.resolve()
  #idWait = false

  constructor(config: AssentConfig, defaultEndpoint: string) {
    const cfg = (this.#cfg = resolveConfig(config, defaultEndpoint))
    if (!cfg.writeKey) console.error('[assent] init() needs a writeKey')
    this.#store = new DeviceStore('ast_' + cfg.writeKey.replace(/[^\w-]/g, '_') + '_', cfg.storage, cfg.cookie)
    this.#consent = new Consent(
      { mode: cfg.mode, categories: CATEGORIES.concat(cfg.categories), revision: cfg.revision, expiryDays: cfg.expiryDays },
      uuid(),
    )
    this.#anonymousLevel = cfg.anonymous
    const now = Date.now()

    // Reading the visitor's own choices is always allowed: they are `necessary`.
    const marker = this.#store.get('optout')
    this.#optedOut = marker !== undefined
    if (marker) this.#consent.id = marker
    this.#consent.restore(parse<ConsentRecord>(this.#store.get('consent')), now)
    if (cfg.respectDoNotTrack && hasDoNotTrack()) this.#signalOptOut = true
    if (cfg.respectGPC && hasGlobalPrivacyControl()) {
      if (cfg.respectGPC === 'optOut') this.#signalOptOut = true
      else this.#consent.denyIfPending('marketing', 'gpc')
    }
    if (this.isOptedOut()) this.#consent.update(this.#consent.denyAll(), this.#optedOut ? 'api' : 'signal', now)

    this.#queue = new EventQueue(cfg.maxQueue, () => this.#saveSoon())
    this.#delivery = this.#newDelivery()
    this.#linkedId = readLinkedId(location.href, now, cfg.linkMaxAgeMs)

    if (this.#analyticsAllowed()) this.#grantAnalytics()
    else if (IDENTITY_KEYS.concat('session', 'queue').some((k) => this.#store.has(k))) {
      // Identifiers from an expired or withdrawn consent, an older policy revision, or from
      // before an opt-out: never read them, remove them.
      this.#forgetIdentity(true, true)
      this.#store.remove('queue')
    }

    addEventListener('pagehide', () => this.#exit())
    document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && this.#exit())
    if (cfg.crossDomains.length) document.addEventListener('click', (e) => this.#decorateClickedLink(e), true)
  }

  // ── events ────────────────────────────────────────────────────────────────

  track(event: string, properties?: Properties): void {
    this.#capture('track', { event, properties: properties || {} })
  }

  page(name?: string, properties?: Properties): void {
    this.#capture('page', { name, properties: properties || {} })
  }

  identify(userId?: string | Properties | null, traits?: Properties): void {
    if (userId && typeof userId === 'object') {
      traits = userId
      userId = undefined
    }
    if (typeof userId === 'string') this.#ids.userId = userId
    this.#ids.traits = { ...this.#ids.traits, ...traits }
    this.#saveIdentity()
    this.#capture('identify', { traits: { ...this.#ids.traits } })
  }

  /** `group(id, traits)` records membership; `group()` returns the group accessor. */
  group(): GroupAccessor
  group(groupId: string, traits?: Properties): void
  group(groupId?: string, traits?: Properties): GroupAccessor | void {
    if (groupId === undefined) return this.#groupAccessor()
    this.#ids.groupId = groupId
    this.#ids.groupTraits = { ...this.#ids.groupTraits, ...traits }
    this.#saveIdentity()
    this.#capture('group', { groupId, traits: { ...this.#ids.groupTraits } })
  }

  alias(newUserId: string): void {
    const previousId = this.#ids.userId
    this.#capture('alias', { userId: newUserId, previousId })
    this.#ids.userId = newUserId
    this.#saveIdentity()
  }

  flush(): Promise<void> {
    return this.#delivery.flush()
  }

  // ── consent ───────────────────────────────────────────────────────────────

  setConsent(changes: Partial<ConsentStates>, options: ConsentOptions = {}): void {
    if (this.isOptedOut()) {
      console.warn('[assent] the visitor opted out; call optIn() before setConsent()')
      return
    }
    const { granted, withdrawn } = this.#consent.update(changes, options.source || 'api', Date.now())
    this.#store.set('consent', JSON.stringify(this.#consent.record()))
    for (const c of withdrawn) this.#withdraw(c)
    if (this.#consent.state.analytics === 'denied' && !this.#analyticsAllowed()) {
      // Held events were waiting for a yes; a no drops them (Amplitude's deferred init does the same).
      this.#delivery.count('denied', this.#held.length)
      this.#held = []
    }
    if (granted.includes('analytics') || (granted.includes('marketing') && this.#analyticsAllowed())) this.#grantAnalytics()
    this.#capture('consent', { properties: this.#consentProperties() })
    this.#notify()
  }

  getConsent(): ConsentSnapshot {
    return this.#consent.snapshot()
  }

  onConsentChange(callback: (consent: ConsentSnapshot) => void): () => void {
    this.#listeners.push(callback)
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== callback)
    }
  }

  /**
   * Stop everything: one last `consent` event records the withdrawal by consent id alone,
   * then the queue and every identifier go from every store, and only the opt-out marker stays.
   */
  optOut(): void {
    if (this.#optedOut) return
    const now = Date.now()
    this.#consent.update(this.#consent.denyAll(), 'api', now)
    const final = this.#build('consent', { properties: { ...this.#consentProperties(), optOut: true } }, 'server', now)
    // Earlier choices not yet delivered still belong in the ledger: they ride along in the final
    // request, stripped to the consent id like the opt-out itself.
    const ledger = this.#queue.items.filter((i) => i.event.type === 'consent').map(withoutIdentifiers)
    this.#delivery.count('optOut', this.#queue.items.length - ledger.length + this.#held.length)
    this.#delivery.stop()
    this.#queue.clear()
    this.#held = []
    this.#forgetIdentity(true, true)
    this.#store.remove('queue')
    this.#store.remove('consent')
    this.#store.set('optout', this.#consent.id)
    this.#optedOut = true
    if (!this.#signalOptOut) this.#delivery.sendNow(ledger.concat({ event: final.event, needs: [], bytes: 0 }))
    this.#notify()
  }

  /** Undo an opt-out (or a browser signal, on the visitor's explicit request): every category granted. */
  optIn(): void {
    if (!this.isOptedOut()) return
    this.#store.remove('optout')
    this.#optedOut = this.#signalOptOut = false
    this.#delivery = this.#newDelivery()
    this.setConsent(this.#allGranted(), { source: 'api' })
  }

  isOptedOut(): boolean {
    return this.#optedOut || this.#signalOptOut
  }

  /**
   * The session id events carry now, or undefined when they carry none (no `analytics`
   * consent, an anonymous level, opted out). For @assent/replay; asking counts as activity.
   */
  sessionId(): number | undefined {
    if (this.#mode() != 'identified') return
    const s = (this.#session = touchSession(this.#session, Date.now(), this.#cfg.sessionTimeoutMs))
    s.seq--
    this.#saveSoon()
    return s.id
  }

  // ── anonymous modes ───────────────────────────────────────────────────────

  /**
   * `full`: no identifier at all. `session`: only sessionId and sequence, kept in memory (or
   * sessionStorage when asked and consent allows). `server`: `full`, and the collector is asked
   * to keep no IP and set no cookie. What is already queued goes out first, as it was captured.
   */
  enableAnonymous(level: AnonymousLevel, options: { storage?: 'memory' | 'sessionStorage' } = {}): Promise<void> {
    const sent = this.#delivery.flush()
    this.#anonymousLevel = level
    this.#anonymousStorage = options.storage || 'memory'
    this.#anonymousSession = undefined
    return sent
  }

  disableAnonymous(): Promise<void> {
    const sent = this.#delivery.flush()
    this.#anonymousLevel = false
    if (this.#analyticsAllowed()) this.#serverId(true)
    return sent
  }

  // ── identity ──────────────────────────────────────────────────────────────

  /** Forget identifiers (our keys only, never the rest of the site's storage). Consent and opt-out stay. */
  clearUserData(options: { preserveSession?: boolean; preserveUser?: boolean } = {}): void {
    this.#forgetIdentity(!options.preserveUser, !options.preserveSession)
  }

  /** analytics.js's reset(): a new visitor on this device. Consent and opt-out stay. */
  reset(): void {
    this.#forgetIdentity(true, true)
  }

  user(): UserAccessor {
    return {
      id: (v) => this.#accessor('userId', v),
      anonymousId: (v) => {
        this.#accessor('anonymousId', v)
        return this.#analyticsAllowed() ? this.#anonymousId() : this.#ids.anonymousId
      },
      traits: (v) => this.#accessor('traits', v),
    }
  }

  #groupAccessor(): GroupAccessor {
    return {
      id: (v) => this.#accessor('groupId', v),
      traits: (v) => this.#accessor('groupTraits', v),
    }
  }

  /** Read an identity field, or set it first when a value is given (null clears an id). */
  #accessor<K extends keyof Identity>(field: K, value: Identity[K] | null | undefined): Identity[K] {
    if (value !== undefined) {
      this.#ids[field] = (value === null || value === '' ? undefined : value) as Identity[K]
      if (field === 'traits' || field === 'groupTraits') this.#ids[field] = { ...(value as Properties) } as Identity[K]
      this.#saveIdentity()
    }
    return this.#ids[field]
  }

  /** A link to a sister site that carries this visitor's id — only with `analytics` and `marketing` consent. */
  decorateUrl(url: string): string {
    if (this.#mode() !== 'identified' || !this.#consent.allows('marketing')) return url
    try {
      return decorate(url, this.#anonymousId(), Date.now())
    } catch {
      return url
    }
  }

  /** Counters for the site (and the demo panel): sent, retried, dropped by reason, queued. */
  stats(): TrackerStats {
    const dropped = { ...this.#stats.dropped }
    if (this.#queue.overflowed) dropped.overflow = (dropped.overflow || 0) + this.#queue.overflowed
    return { ...this.#stats, dropped, queued: this.#queue.items.length, held: this.#held.length }
  }

  // ── internals ─────────────────────────────────────────────────────────────

  #newDelivery(): Delivery {
    const c = this.#cfg
    return new Delivery(
      {
        endpoint: c.endpoint,
        writeKey: c.writeKey,
        batchSize: c.batchSize,
        flushIntervalMs: c.flushIntervalMs,
        maxBatchBytes: c.maxBatchBytes,
        retryBaseMs: c.retryBaseMs,
        retryMaxMs: c.retryMaxMs,
      },
      this.#queue,
      this.#stats,
    )
  }

  #analyticsAllowed(): boolean {
    return !this.isOptedOut() && this.#consent.allows('analytics')
  }

  #mode(): CaptureMode {
    if (this.isOptedOut()) return 'off'
    if (this.#anonymousLevel) return this.#anonymousLevel
    if (this.#consent.allows('analytics')) return 'identified'
    const fallback = this.#consent.state.analytics === 'denied' ? this.#cfg.onDeny : this.#cfg.whilePending
    return fallback === 'queue' ? 'hold' : fallback === 'anonymous' ? 'server' : 'off'
  }

  #capture(type: EventType, fields: Partial<AssentEvent>): void {
    let mode = this.#mode()
    // A consent event is the proof of a choice: it is sent whatever the choice was,
    // with identifiers only when the choice allows them.
    if (type === 'consent' && !this.isOptedOut() && mode !== 'identified') mode = 'server'
    if (mode === 'off') return this.#delivery.count(this.isOptedOut() ? 'optOut' : 'noConsent', 1)
    // Anonymous events about identity would carry nothing: the calls only update memory.
    if (mode !== 'identified' && mode !== 'hold' && /^(identify|group|alias)$/.test(type)) return this.#delivery.count('anonymous', 1)
    const captured = this.#build(type, fields, mode, Date.now())
    if (mode === 'hold') {
      this.#held.push(captured)
      if (this.#held.length > this.#cfg.maxQueue) this.#delivery.count('overflow', this.#held.splice(0, 1).length)
      return
    }
    this.#enqueue(captured)
  }

  #build(type: EventType, fields: Partial<AssentEvent>, mode: Exclude<CaptureMode, 'off'>, now: number): Captured {
    const identified = mode === 'identified'
    // Consent events never carry click ids: they must outlive a withdrawal of `marketing`.
    const { page, clickIds } = pageContext(identified && type !== 'consent' && this.#consent.allows('marketing'), LINK_PARAM)
    const consent: Partial<ConsentSnapshot> = this.#consent.snapshot()
    // A stable consent id on anonymous events would link them to each other: only consent events keep it.
    if (!identified && mode !== 'hold' && type !== 'consent') delete consent.id
    const event: AssentEvent = {
      messageId: uuid(),
      type,
      ...fields,
      timestamp: new Date(now).toISOString(),
      context: {
        consent,
        anonymous: identified || mode === 'hold' ? false : mode,
        page,
        userAgent: navigator.userAgent,
        locale: navigator.language,
        library: { name: '@assent/browser', version: __VERSION__ },
      },
    }
    if (type === 'page') event.properties = { ...page, ...fields.properties }
    if (identified) this.#attachIdentity(event, now)
    if (mode === 'session') {
      this.#anonymousSession = touchSession(this.#anonymousSession || this.#readAnonymousSession(), now, this.#cfg.sessionTimeoutMs)
      event.sessionId = this.#anonymousSession.id
      event.sequence = this.#anonymousSession.seq
      if (this.#anonymousStorage === 'sessionStorage' && this.#consent.allows('analytics'))
        writeWebStorage('sessionStorage', this.#store.prefix + 'anon_session', JSON.stringify(this.#anonymousSession))
    }
    // Identifiers need `analytics` (held events get theirs on release); kept click ids need `marketing`.
    const needs = identified || mode === 'hold' ? ['analytics'] : []
    if (clickIds) needs.push('marketing')
    return { event, needs }
  }

  #readAnonymousSession(): Session | undefined {
    if (this.#anonymousStorage !== 'sessionStorage' || !this.#consent.allows('analytics')) return undefined
    return readSession(parse(readWebStorage('sessionStorage', this.#store.prefix + 'anon_session')))
  }

  #attachIdentity(event: AssentEvent, now: number): void {
    event.anonymousId = this.#anonymousId()
    if (event.type !== 'alias' && this.#ids.userId) event.userId = this.#ids.userId
    if (event.type === 'alias' && !event.previousId) event.previousId = event.anonymousId
    this.#session = touchSession(this.#session, now, this.#cfg.sessionTimeoutMs)
    event.sessionId = this.#session.id
    event.sequence = this.#session.seq
    this.#saveSoon()
  }

  #enqueue({ event, needs }: Captured): void {
    const bytes = utf8Bytes(JSON.stringify(event))
    if (bytes > MAX_EVENT_BYTES) {
      console.warn(`[assent] ${event.event || event.type}: ${bytes} bytes is over the 32 KB event limit; dropped`)
      return this.#delivery.count('tooLarge', 1)
    }
    this.#queue.push({ event, needs, bytes })
    this.#delivery.schedule()
  }

  /** The anonymousId, created on first use; only ever called when `analytics` allows it. */
  #anonymousId(): string {
    if (!this.#ids.anonymousId) {
      this.#ids.anonymousId = uuid()
      this.#saveIdentity()
    }
    return this.#ids.anonymousId
  }

  /** Consent to analytics arrived (at load or later): read or create identity, release held events. */
  #grantAnalytics(): void {
    this.#loadDevice()
    this.#serverId(true)
    const held = this.#held
    this.#held = []
    for (const captured of held) {
      captured.event.context.consent = this.#consent.snapshot()
      this.#attachIdentity(captured.event, Date.parse(captured.event.timestamp))
      this.#enqueue(captured)
    }
    this.#saveIdentity()
  }

  /**
   * Read what the device keeps for this project. Memory wins over the device (a call made
   * while consent was pending is newer); a fresh cross-domain link wins over both.
   */
  #loadDevice(): void {
    const s = this.#store
    const ids = this.#ids
    ids.anonymousId = ids.anonymousId || s.get('aid')
    ids.userId = ids.userId || s.get('uid')
    ids.traits = { ...parse<Properties>(s.get('traits', true)), ...ids.traits }
    ids.groupId = ids.groupId || s.get('gid')
    ids.groupTraits = { ...parse<Properties>(s.get('gtraits', true)), ...ids.groupTraits }
    this.#session = this.#session || readSession(parse(s.get('session')))
    if (!ids.anonymousId && this.#cfg.migrateFrom.length)
      ids.anonymousId = findPeerAnonymousId(this.#cfg.migrateFrom, allCookies(), (k) => readWebStorage('localStorage', k))
    if (this.#linkedId && this.#consent.allows('marketing')) {
      ids.anonymousId = this.#linkedId
      this.#linkedId = undefined
    }
    const stored = parse<QueuedEvent[]>(s.get('queue', true))
    if (Array.isArray(stored)) this.#queue.adopt(stored)
    this.#saveIdentity()
    this.#delivery.schedule()
  }

  #saveIdentity(): void {
    if (!this.#analyticsAllowed()) return
    const ids = this.#ids
    const values: Record<string, string | undefined> = {
      aid: ids.anonymousId,
      uid: ids.userId,
      gid: ids.groupId,
      traits: Object.keys(ids.traits).length ? JSON.stringify(ids.traits) : undefined,
      gtraits: Object.keys(ids.groupTraits).length ? JSON.stringify(ids.groupTraits) : undefined,
    }
    for (const k of IDENTITY_KEYS) {
      const v = values[k]
      if (v !== undefined) this.#store.set(k, v, LARGE_KEYS.includes(k))
      else if (this.#store.has(k)) this.#store.remove(k)
    }
  }

  #forgetIdentity(user: boolean, session: boolean): void {
    if (user) {
      this.#ids = { traits: {}, groupTraits: {} }
      for (const k of IDENTITY_KEYS) this.#store.remove(k)
      // The collector's HttpOnly cookie is ours too, but only the collector can expire it;
      // a reset visitor still under consent then gets a new one.
      this.#serverId(false)
      if (this.#analyticsAllowed()) this.#serverId(true)
    }
    if (session) {
      this.#session = this.#anonymousSession = undefined
      this.#store.remove('session')
      this.#store.remove('anon_session')
    }
  }

  /**
   * `GET /v1/id`: `granted` makes the collector set or refresh its HttpOnly id cookie (once per
   * page), anything else expire it. Without an id of our own, delivery waits for the answer and
   * the collector's id replaces the one made meanwhile, in queued events too. Only the latest
   * call decides. Never in an anonymous level.
   */
  #serverId(granted: boolean): void {
    const c = this.#cfg
    if (!c.serverId || (granted && (this.#idAsked || this.#anonymousLevel))) return
    this.#idAsked = granted
    const n = ++this.#idCalls
    if (granted && !this.#ids.anonymousId) this.#delivery.stopped = this.#idWait = true
    this.#idChain = this.#idChain.then(async () => {
      let id
      try {
        const url = `${c.endpoint}/v1/id?writeKey=${encodeURIComponent(c.writeKey)}&analytics=${granted ? 'granted' : 'denied'}`
        id = (await (await fetch(url, { credentials: 'include', keepalive: true, signal: AbortSignal.timeout(5000) })).json()).id
      } catch {
        // No answer in time (or no AbortSignal.timeout): keep the id made meanwhile.
      }
      if (n !== this.#idCalls || !this.#idWait || this.isOptedOut()) return
      this.#idWait = false
      const ids = this.#ids
      const made = ids.anonymousId
      if (id && this.#analyticsAllowed()) {
        ids.anonymousId = id
        if (made)
          for (const { event } of this.#queue.items) {
            if (event.anonymousId === made) event.anonymousId = id
            if (event.previousId === made) event.previousId = id
          }
        this.#saveIdentity()
      }
      this.#delivery.stopped = false
      this.#delivery.schedule()
    })
  }

  /** Persist the session and the queue once per task, not once per event: track() stays cheap. */
  #saveSoon(): void {
    if (this.#saving) return
    this.#saving = true
    Promise.resolve().then(() => this.#saveNow())
  }

  #saveNow(): void {
    this.#saving = false
    if (!this.#analyticsAllowed()) return
    if (this.#session) this.#store.set('session', JSON.stringify(this.#session))
    // Only storage consent allows keeps the queue across pages; otherwise it lives in memory.
    if (this.#store.hasWebStorage()) {
      // A full storage (QuotaExceededError) leaves the queue in memory only; the page carries on.
      if (this.#queue.items.length) this.#store.set('queue', JSON.stringify(this.#queue.items), true)
      else if (this.#store.has('queue')) this.#store.remove('queue')
    }
  }

  /** Hard rule 3: what was captured under a withdrawn category is never sent. */
  #withdraw(category: string): void {
    // A consent event stays (it is the proof), stripped of the identifiers it carried.
    const dropped = this.#queue.purge(category, (item) => (item.event.type === 'consent' ? withoutIdentifiers(item) : undefined))
    this.#delivery.count('withdrawn', dropped)
    if (category === 'analytics') {
      this.#forgetIdentity(true, true)
      this.#store.remove('queue')
    }
  }

  #consentProperties(): Properties {
    const { id, state, revision, source, mode } = this.#consent.snapshot()
    return { consentId: id, state, revision, source, mode }
  }

  #allGranted(): Partial<ConsentStates> {
    const all: ConsentStates = {}
    for (const c of Object.keys(this.#consent.state)) all[c] = 'granted'
    return all
  }

  #notify(): void {
    const snapshot = this.#consent.snapshot()
    for (const l of this.#listeners) {
      try {
        l(snapshot)
      } catch (e) {
        console.error('[assent] onConsentChange callback threw', e)
      }
    }
  }

  #exit(): void {
    this.#saveNow()
    this.#delivery.flushOnExit()
  }

  #decorateClickedLink(e: Event): void {
    const a = e.target instanceof Element ? e.target.closest('a[href]') : null
    if (!(a instanceof HTMLAnchorElement) || a.hostname === location.hostname) return
    if (this.#cfg.crossDomains.some((d) => a.hostname === d || a.hostname.endsWith('.' + d))) a.href = this.decorateUrl(a.href)
  }
}
