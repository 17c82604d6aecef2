import { AssentConfig, resolveConfig, ResolvedConfig } from './config'
import { CATEGORIES, Consent, ConsentRecord, ConsentSnapshot, ConsentStates, followGpc } from './consent'
import { LINK_PARAM } from './cross-domain'
import { Delivery, DeliveryStats } from './delivery'
import { DeviceStore } from './device-store'
import { AnonymousLevel, AssentEvent, EventType, Properties, utf8Bytes, withoutIdentifiers } from './event'
import { EventQueue } from './event-queue'
import { PageReader, urlParam } from './page-context'
import type { PluginAccess } from './plugin'
import { hasDoNotTrack, hasGlobalPrivacyControl } from './privacy-signals'
import { readSession, Session, touchSession } from './session'
import { Identity, parse, StoredIdentity } from './stored-identity'
import { uuid } from './uuid'
import { readWebStorage, writeWebStorage } from './web-storage'

declare const __VERSION__: string

/** The collector refuses events over 32 KB; refusing them here keeps the rest of the batch moving. */
const MAX_EVENT_BYTES = 32 * 1024

/** How a new event is captured right now. */
type CaptureMode = 'off' | 'hold' | 'identified' | AnonymousLevel

/** A built event and the consent categories its content depends on. */
interface Captured {
  event: AssentEvent
  needs: string[]
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

/**
 * One tracker per write key. It decides, for every call, what consent allows: which
 * identifiers an event carries, what may be written to the device, what may be sent.
 */
export class Tracker {
  #cfg: ResolvedConfig
  #store: DeviceStore
  /** The opt-out marker's store: a cookie and localStorage whatever the `storage` option says. */
  #necessary: DeviceStore
  #stored: StoredIdentity
  #consent: Consent
  #queue: EventQueue
  #delivery: Delivery
  #stats: DeliveryStats = { sent: 0, retries: 0, dropped: {} }
  #page: PageReader
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
  /** The anonymousId the page's URL carried (`deviceIdFromUrlParam`), adopted once consent allows it. */
  #urlDeviceId?: string
  #saving = false
  /** Identifiers or session changed since they were last written. */
  #idsChanged = false
  /** Constant for the page's life, and costly to ask for on every event. */
  #agent = { userAgent: navigator.userAgent, locale: navigator.language }
  /** The last event's time, formatted: events often come several to a millisecond. */
  #timeMs = 0
  #timeText = ''

  constructor(config: AssentConfig, defaultEndpoint: string) {
    const cfg = (this.#cfg = resolveConfig(config, defaultEndpoint))
    if (!cfg.writeKey) console.error('[assent] init() needs a writeKey')
    const prefix = 'ast_' + cfg.writeKey.replace(/[^\w-]/g, '_') + '_'
    this.#store = new DeviceStore(prefix, cfg.storage, cfg.cookie)
    // An opt-out lost on reload would start tracking again: its marker is kept even when
    // identifiers may only live in memory or in the tab's sessionStorage.
    this.#necessary = new DeviceStore(prefix, 'cookieAndLocalStorage', cfg.cookie)
    this.#stored = new StoredIdentity(this.#store)
    this.#consent = new Consent(
      { mode: cfg.mode, categories: CATEGORIES.concat(cfg.categories), revision: cfg.revision, expiryDays: cfg.expiryDays },
      uuid(),
    )
    this.#anonymousLevel = cfg.anonymous
    this.#page = new PageReader([LINK_PARAM, cfg.deviceIdParam])
    const now = Date.now()

    // Reading the visitor's own choices is always allowed: they are `necessary`.
    const marker = this.#necessary.get('optout')
    this.#optedOut = marker !== undefined
    if (marker) this.#consent.id = marker
    // A format 1 record (no `v`) reads the same; the visitor's next choice is written as format 2.
    this.#consent.restore(parse<ConsentRecord>(this.#store.get('consent')), now)
    if (cfg.respectDoNotTrack && hasDoNotTrack()) this.#signalOptOut = true
    const gpc = hasGlobalPrivacyControl() && followGpc(this.#consent, cfg.respectGPC, now)
    if (gpc === 'optOut') this.#signalOptOut = true
    if (this.isOptedOut()) this.#consent.update(this.#consent.denyAll(), this.#optedOut ? 'api' : 'signal', now)

    this.#queue = new EventQueue(cfg.maxQueue, () => this.#saveSoon())
    this.#delivery = this.#newDelivery()
    this.#urlDeviceId = urlParam(cfg.deviceIdParam)
    const access: PluginAccess = {
      endpoint: cfg.endpoint,
      writeKey: cfg.writeKey,
      identifiedId: () => (this.#mode() === 'identified' ? this.#anonymousId() : undefined),
      anonymousId: () => this.#ids.anonymousId,
      allows: (c) => !this.isOptedOut() && this.#consent.allows(c),
      hold: (on) => {
        if (this.isOptedOut()) return
        this.#delivery.stopped = on
        this.#delivery.schedule()
      },
      replaceAnonymousId: (id) => this.#replaceAnonymousId(id),
    }
    for (const p of cfg.plugins) p.setup && p.setup(this, access)

    if (this.#analyticsAllowed()) this.#grantAnalytics()
    else if (this.#stored.present()) {
      // Identifiers from an expired or withdrawn consent, an older policy revision, or from
      // before an opt-out: never read them, remove them.
      this.#forgetIdentity(true, true, true)
    }
    // GPC withdrew an earlier grant of `marketing`: a change of consent like any other.
    if (gpc === true && !this.isOptedOut()) this.#consentChanged([], ['marketing'])

    addEventListener('pagehide', () => this.#exit())
    document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && this.#exit())
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
    this.#consentChanged(granted, withdrawn)
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
    this.#forgetIdentity(true, true, true)
    this.#store.remove('consent')
    this.#necessary.set('optout', this.#consent.id)
    this.#optedOut = true
    if (!this.#signalOptOut) this.#delivery.sendNow(ledger.concat({ event: final.event, needs: [], bytes: 0 }))
    this.#notify()
  }

  /**
   * Undo an opt-out (or a browser signal, on the visitor's explicit request). It lifts the
   * opt-out and nothing more: every category is pending again, as for a visitor never asked,
   * until their next choice (`setConsent`). The lifting is recorded in the ledger.
   */
  optIn(): void {
    if (!this.isOptedOut()) return
    this.#necessary.remove('optout')
    this.#optedOut = this.#signalOptOut = false
    this.#delivery = this.#newDelivery()
    this.#consent.reset()
    this.#consent.source = 'api'
    // Under the opt-out (US) model pending counts as granted, so tracking resumes at once.
    if (this.#analyticsAllowed()) this.#grantAnalytics()
    this.#capture('consent', { properties: { ...this.#consentProperties(), optIn: true } })
    this.#notify()
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
    this.#saveSoon(true)
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
    if (this.#analyticsAllowed()) this.#identity(true)
    return sent
  }

  // ── identity ──────────────────────────────────────────────────────────────

  /**
   * Remove the tracker's identifiers from the device (its own keys only, never the rest of the
   * site's storage), as Snowplow's `clearUserData` does: the device is always cleared, and the
   * options keep the user's ids (`preserveUser`) or the session (`preserveSession`) in memory
   * for later events, which store them again while consent allows. Consent and opt-out stay.
   */
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

  /** Counters for the site (and the demo panel): sent, retried, dropped by reason, queued. */
  stats(): TrackerStats {
    const dropped = { ...this.#stats.dropped }
    if (this.#queue.overflowed) dropped.overflow = (dropped.overflow || 0) + this.#queue.overflowed
    return { ...this.#stats, dropped, queued: this.#queue.items.length, held: this.#held.length }
  }

  // ── internals ─────────────────────────────────────────────────────────────

  #newDelivery(): Delivery {
    return new Delivery(this.#cfg, this.#queue, this.#stats)
  }

  /** After a change of consent: keep the choice, purge what it withdrew, record it in the ledger. */
  #consentChanged(granted: string[], withdrawn: string[]): void {
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
    const { page, clickIds } = this.#page.read(identified && type !== 'consent' && this.#consent.allows('marketing'))
    let consent: Partial<ConsentSnapshot> = this.#consent.shared()
    // A stable consent id on anonymous events would link them to each other: only consent events keep it.
    if (!identified && mode !== 'hold' && type !== 'consent') {
      consent = { ...consent }
      delete consent.id
    }
    if (this.#timeMs !== now) this.#timeText = new Date((this.#timeMs = now)).toISOString()
    const event: AssentEvent = {
      messageId: uuid(),
      type,
      ...fields,
      timestamp: this.#timeText,
      context: {
        consent,
        anonymous: identified || mode === 'hold' ? false : mode,
        page,
        ...this.#agent,
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
    this.#saveSoon(true)
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
    this.#identity(true)
    const held = this.#held
    this.#held = []
    for (const captured of held) {
      captured.event.context.consent = this.#consent.shared()
      this.#attachIdentity(captured.event, Date.parse(captured.event.timestamp))
      this.#enqueue(captured)
    }
    this.#saveIdentity()
  }

  /**
   * Read what the device keeps for this project. Memory wins over the device (a call made
   * while consent was pending is newer); plugins may then replace the id (a fresh cross-domain
   * link) or fill it in (another tracker's); the caller's `deviceId` (or URL parameter) wins.
   */
  #loadDevice(): void {
    const { ids: stored, session, queue } = this.#stored.read()
    const ids = this.#ids
    ids.anonymousId = ids.anonymousId || stored.anonymousId
    ids.userId = ids.userId || stored.userId
    ids.traits = { ...stored.traits, ...ids.traits }
    ids.groupId = ids.groupId || stored.groupId
    ids.groupTraits = { ...stored.groupTraits, ...ids.groupTraits }
    this.#session = this.#session || session
    for (const p of this.#cfg.plugins) p.adopt && p.adopt(ids)
    ids.anonymousId = this.#cfg.deviceId || this.#urlDeviceId || ids.anonymousId
    this.#queue.adopt(queue)
    this.#saveIdentity()
    this.#delivery.schedule()
  }

  #saveIdentity(): void {
    if (!this.#analyticsAllowed()) return
    this.#stored.saveIds(this.#ids, this.#session)
    this.#stored.saveTraits(this.#ids)
    this.#idsChanged = false
  }

  /**
   * Forget identifiers in memory (the user's ids, the session, or both) and remove every one
   * from the device, the queue too when asked. Plugins hear of it: the collector's HttpOnly
   * cookie (`serverId`) is ours too, but only the collector can expire it; a reset visitor
   * still under consent then gets a new one.
   */
  #forgetIdentity(user: boolean, session: boolean, queue = false): void {
    this.#stored.clear(queue)
    this.#idsChanged = false
    if (user) {
      this.#ids = { traits: {}, groupTraits: {} }
      this.#identity(false)
      if (this.#analyticsAllowed()) this.#identity(true)
    }
    if (session) this.#session = this.#anonymousSession = undefined
  }

  /** Plugins hear that identifiers may be used now (never in an anonymous level), or were forgotten. */
  #identity(allowed: boolean): void {
    if (allowed && this.#anonymousLevel) return
    for (const p of this.#cfg.plugins) p.identity && p.identity(allowed)
  }

  /** A plugin's id (the collector's) replaces the one in use, in queued events too. */
  #replaceAnonymousId(id: string): void {
    if (!this.#analyticsAllowed()) return
    const ids = this.#ids
    const made = ids.anonymousId
    ids.anonymousId = id
    if (made)
      for (const { event } of this.#queue.items) {
        if (event.anonymousId === made) event.anonymousId = id
        if (event.previousId === made) event.previousId = id
      }
    this.#saveIdentity()
  }

  /** Persist the session and the queue once per task, not once per event: track() stays cheap. */
  #saveSoon(idsChanged = false): void {
    if (idsChanged) this.#idsChanged = true
    if (this.#saving) return
    this.#saving = true
    Promise.resolve().then(() => this.#saveNow())
  }

  #saveNow(): void {
    this.#saving = false
    if (!this.#analyticsAllowed()) return
    if (this.#idsChanged) this.#stored.saveIds(this.#ids, this.#session)
    this.#idsChanged = false
    // Only storage consent allows keeps the queue across pages; otherwise it lives in memory.
    this.#stored.saveQueue(this.#queue.items)
  }

  /** What was captured under a withdrawn category is never sent (docs/architecture.md, "Hard rules"). */
  #withdraw(category: string): void {
    // A consent event stays (it is the proof), stripped of the identifiers it carried.
    const dropped = this.#queue.purge(category, (item) => (item.event.type === 'consent' ? withoutIdentifiers(item) : undefined))
    this.#delivery.count('withdrawn', dropped)
    if (category === 'analytics') this.#forgetIdentity(true, true, true)
  }

  #consentProperties(): Properties {
    const { id, state, revision, source, mode } = this.#consent.snapshot()
    return { consentId: id, state, revision, source, mode }
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
}
