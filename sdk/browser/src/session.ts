/**
 * A session ends after a period of inactivity (30 minutes by default, like Amplitude and
 * Snowplow). `id` is the start time in ms, `seq` counts every event the device has sent.
 */
export interface Session {
  id: number
  /** Time of the last event: inactivity is measured from here. */
  last: number
  seq: number
}

/** The session an event created at `now` belongs to, and the next sequence number. */
export function touchSession(session: Session | undefined, now: number, timeoutMs: number): Session {
  const fresh = !session || now - session.last >= timeoutMs || now < session.id
  return { id: fresh ? now : session.id, last: now, seq: (session ? session.seq : 0) + 1 }
}

/** Parse a stored session, rejecting anything that is not three numbers. */
export function readSession(raw: unknown): Session | undefined {
  const s = raw as Session
  return s && typeof s.id === 'number' && typeof s.last === 'number' && typeof s.seq === 'number' ? s : undefined
}
