/**
 * Adopting the identifiers another tracker left on this device, a plugin (not in the core
 * bundle), so a site that switches to Assent keeps counting its returning visitors as
 * returning and its logged-in users as themselves. It runs only once `analytics` is allowed,
 * and only when Assent has no anonymousId of its own yet.
 *
 *   init({ writeKey: 'pk_…', plugins: [migrateFrom(['segment', 'amplitude'])] })
 *   // IIFE: load assent-migration.min.js, then plugins: [Assent.migrateFrom([…])]
 */
import { allCookies } from './cookies'
import type { Plugin } from './plugin'
import { readWebStorage } from './web-storage'

export type PeerTracker = 'segment' | 'amplitude' | 'snowplow' | 'posthog'

/** What a peer left: its anonymous/device id, and the user id where it keeps one. */
export interface PeerIds {
  anonymousId?: string
  userId?: string
}

/** The device as the peers left it: cookies (name → raw value) and localStorage. */
export interface PeerSources {
  cookies: Record<string, string>
  local: (key: string) => string | undefined
  localKeys: string[]
}

const ID = /^[\w.:@+-]{1,128}$/

function attempt<T>(read: () => T): T | undefined {
  try {
    return read()
  } catch {
    return undefined
  }
}

const decoded = (raw: string): string | undefined => attempt(() => decodeURIComponent(raw))
const json = (text: string | undefined): any => text && attempt(() => JSON.parse(text))
/** Base64 of UTF-8 text, as Amplitude writes it. */
const base64 = (text: string): string | undefined =>
  attempt(() => new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0))))

/** The first cookie (else localStorage key) whose name matches, decoded. */
function find(s: PeerSources, name: RegExp): string | undefined {
  for (const k of Object.keys(s.cookies)) if (name.test(k)) return decoded(s.cookies[k])
  for (const k of s.localKeys) if (name.test(k)) return s.local(k)
  return undefined
}

/** analytics.js stores JSON strings, so an id may arrive wrapped in (encoded) quotes. */
function segment(s: PeerSources): PeerIds {
  const read = (key: string) => {
    const raw = s.local(key) || (s.cookies[key] && decoded(s.cookies[key]))
    return raw ? json(raw) || raw : undefined
  }
  return { anonymousId: read('ajs_anonymous_id'), userId: read('ajs_user_id') }
}

/**
 * Browser SDK 2: `AMP_<key10>` = base64(URI-encoded JSON {deviceId, userId}). Legacy SDK 6+:
 * `amp_<key6>` = `deviceId.base64(userId).…`. Legacy SDK before 6: `amplitude_id_<key>…` =
 * base64(JSON {deviceId, userId}), in a cookie or, without cookies, in localStorage.
 */
function amplitude(s: PeerSources): PeerIds {
  const ids = (j: { deviceId?: string; userId?: string } | undefined): PeerIds => ({ anonymousId: j?.deviceId, userId: j?.userId })
  const current = find(s, /^AMP_(?!MKTG_|TEST)/)
  if (current) return ids(json(attempt(() => decodeURIComponent(atob(current)))))
  const legacy = find(s, /^amp_[0-9a-f]{6}$/i)
  if (legacy) {
    const [anonymousId, user] = legacy.split('.')
    return { anonymousId, userId: user ? base64(user) : undefined }
  }
  const oldest = find(s, /^amplitude_id_/)
  return ids(oldest && json(base64(oldest) || oldest))
}

/** Snowplow: `_sp_id.<hash>` = `domain_userid.createdTs.visitCount.…`; it keeps no user id on the device. */
function snowplow(s: PeerSources): PeerIds {
  return { anonymousId: find(s, /^_sp_id\./)?.split('.')[0] }
}

/**
 * PostHog: `ph_<project key>_posthog` = JSON {distinct_id, $device_id, $user_state}. Once
 * identified, distinct_id is the user's id and $device_id the anonymous one.
 */
function posthog(s: PeerSources): PeerIds {
  const p = json(find(s, /^ph_.+_posthog$/))
  if (!p) return {}
  const identified = p.$user_state === 'identified'
  return { anonymousId: p.$device_id || (identified ? undefined : p.distinct_id), userId: identified ? p.distinct_id : undefined }
}

const READERS: Record<PeerTracker, (s: PeerSources) => PeerIds> = { segment, amplitude, snowplow, posthog }

/** The first peer, in the order given, that left a usable id. Pure: the device comes in `sources`. */
export function findPeerIds(peers: PeerTracker[], sources: PeerSources): PeerIds {
  // Numeric user ids are common (Segment keeps them as JSON numbers); they are ids as text.
  const valid = (v: unknown) => {
    const text = typeof v === 'number' ? String(v) : v
    return typeof text === 'string' && ID.test(text) ? text : undefined
  }
  for (const peer of peers) {
    const found = READERS[peer] ? attempt(() => READERS[peer](sources)) : undefined
    const ids = { anonymousId: valid(found?.anonymousId), userId: valid(found?.userId) }
    if (ids.anonymousId || ids.userId) return ids
  }
  return {}
}

function deviceSources(): PeerSources {
  const localKeys = attempt(() => Object.keys(localStorage)) || []
  return { cookies: allCookies(), local: (k) => readWebStorage('localStorage', k), localKeys }
}

export function migrateFrom(peers: PeerTracker[]): Plugin {
  return {
    adopt(ids) {
      if (ids.anonymousId) return
      const found = findPeerIds(peers, deviceSources())
      ids.anonymousId = found.anonymousId
      ids.userId = ids.userId || found.userId
    },
  }
}
