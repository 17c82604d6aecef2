import type { DeviceStore } from './device-store'
import type { Properties, QueuedEvent } from './event'
import { readSession, Session } from './session'
import { FORMAT } from './stored-format'

/** Who the visitor is, as far as this tracker knows. */
export interface Identity {
  anonymousId?: string
  userId?: string
  traits: Properties
  groupId?: string
  groupTraits: Properties
}

/** `ast_<key>_id`: the identifiers and the session in one record (format 2). */
interface IdRecord {
  v?: number
  aid?: string
  uid?: string
  gid?: string
  session?: Session
}

/** Format 1 kept each of these under its own key; format 2 keeps them in the `id` record. */
const FORMAT_1_KEYS = ['aid', 'uid', 'gid', 'session']
/** Keys that identify the visitor (`anon_session`: the `session` anonymous level's sessionStorage copy). */
const IDENTITY_KEYS = ['id', 'traits', 'gtraits', 'anon_session'].concat(FORMAT_1_KEYS)

export function parse<T>(raw: string | undefined): T | undefined {
  if (raw === undefined) return undefined
  try {
    return JSON.parse(raw) as T
  } catch {
    return undefined
  }
}

/**
 * The visitor's identity, session and delivery queue on the device, in the current format.
 * Whether any of it may be read or written is the tracker's decision (consent); this class
 * only knows the layout, and migrates an older one when it reads it.
 */
export class StoredIdentity {
  constructor(readonly store: DeviceStore) {}

  /** Whether identifiers or queued events are on the device, in any format, without reading them (safe before consent). */
  present(): boolean {
    return IDENTITY_KEYS.concat('queue').some((k) => this.store.has(k))
  }

  /** What the device holds. A format 1 layout is rewritten as format 2 on the way, nothing lost. */
  read(): { ids: Identity; session?: Session; queue: QueuedEvent[] } {
    const s = this.store
    let r = parse<IdRecord>(s.get('id'))
    if (!r && FORMAT_1_KEYS.some((k) => s.has(k))) {
      r = { v: FORMAT, aid: s.get('aid'), uid: s.get('uid'), gid: s.get('gid'), session: parse(s.get('session')) }
      s.set('id', JSON.stringify(r))
      for (const k of FORMAT_1_KEYS) s.remove(k)
    }
    r = r || {}
    // Format 1 stored the queue as a bare array; format 2 as { v, events }.
    const q = parse<{ events?: QueuedEvent[] } | QueuedEvent[]>(s.get('queue', true))
    const queue = Array.isArray(q) ? q : q && q.events
    return {
      ids: {
        anonymousId: r.aid,
        userId: r.uid,
        groupId: r.gid,
        traits: parse<Properties>(s.get('traits', true)) || {},
        groupTraits: parse<Properties>(s.get('gtraits', true)) || {},
      },
      session: readSession(r.session),
      queue: Array.isArray(queue) ? queue : [],
    }
  }

  /** Identifiers and session in one write; an empty record is removed rather than kept. */
  saveIds(ids: Identity, session: Session | undefined): void {
    const r: IdRecord = { v: FORMAT, aid: ids.anonymousId, uid: ids.userId, gid: ids.groupId, session }
    if (r.aid || r.uid || r.gid || session) this.store.set('id', JSON.stringify(r))
    else if (this.store.has('id')) this.store.remove('id')
  }

  saveTraits(ids: Identity): void {
    this.#saveLarge('traits', ids.traits)
    this.#saveLarge('gtraits', ids.groupTraits)
  }

  #saveLarge(key: string, value: Properties): void {
    if (Object.keys(value).length) this.store.set(key, JSON.stringify(value), true)
    else if (this.store.has(key)) this.store.remove(key)
  }

  /** Only where web storage may keep it; a full storage leaves the queue in memory, and the page carries on. */
  saveQueue(items: QueuedEvent[]): void {
    if (!this.store.hasWebStorage()) return
    if (items.length) this.store.set('queue', JSON.stringify({ v: FORMAT, events: items }), true)
    else if (this.store.has('queue')) this.store.remove('queue')
  }

  /** Remove every identifier from every place, in every format. The queue stays unless `queue`. */
  clear(queue: boolean): void {
    for (const k of queue ? IDENTITY_KEYS.concat('queue') : IDENTITY_KEYS) this.store.remove(k)
  }
}
