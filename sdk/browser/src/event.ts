import type { ConsentSnapshot } from './consent'
import type { PageContext } from './page-context'

export type EventType = 'track' | 'page' | 'screen' | 'identify' | 'group' | 'alias' | 'consent'

/**
 * How anonymous an event is: `full` carries no identifier at all, `session` only
 * the session id and sequence, `server` is `full` plus a request to the collector to keep
 * no IP and set no cookie (the `X-Assent-Anonymous: 1` header).
 */
export type AnonymousLevel = 'full' | 'session' | 'server'

export type Properties = Record<string, unknown>

/** The wire event: the Segment Spec plus `sessionId`, `sequence` and `context.consent`. */
export interface AssentEvent {
  messageId: string
  type: EventType
  event?: string
  name?: string
  properties?: Properties
  traits?: Properties
  anonymousId?: string
  userId?: string
  groupId?: string
  previousId?: string
  sessionId?: number
  sequence?: number
  timestamp: string
  context: {
    /** The consent at capture time; anonymous events omit the consent id, which would link them. */
    consent: Partial<ConsentSnapshot>
    anonymous: false | AnonymousLevel
    page: PageContext
    userAgent: string
    locale: string
    library: { name: string; version: string }
  }
}

/**
 * An event waiting for delivery. `needs` lists the consent categories its content depends
 * on, so withdrawing one drops exactly the events captured under it (docs/architecture.md, "Hard rules").
 */
export interface QueuedEvent {
  event: AssentEvent
  needs: string[]
  /** JSON size in bytes, for batching by bytes. */
  bytes: number
}

/**
 * Events of different anonymity never share a batch: anonymous and identified ones must not
 * (a request could tie them together), and the `server` level is asked for per request, so it cannot mix either.
 */
export function batchKey(item: QueuedEvent): string {
  return String(item.event.context.anonymous)
}

/** `server`-level anonymity is requested from the collector with a header, per request. */
export function wantsServerAnonymity(item: QueuedEvent): boolean {
  return item.event.context.anonymous === 'server'
}

/** UTF-8 length. Most events are ASCII, where a native regular expression answers faster than a loop. */
export function utf8Bytes(s: string): number {
  if (!/[^\x00-\x7f]/.test(s)) return s.length
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0x7f) n += c > 0x7ff && (c < 0xd800 || c > 0xdfff) ? 2 : 1
  }
  return n
}

/** A consent event reduced to what the ledger needs once identifiers are no longer allowed. */
export function withoutIdentifiers(item: QueuedEvent): QueuedEvent {
  const { anonymousId, userId, groupId, sessionId, sequence, traits, ...event } = item.event
  event.context.anonymous = 'server'
  return { event, needs: [], bytes: item.bytes }
}
