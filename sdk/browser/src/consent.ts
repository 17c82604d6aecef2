/**
 * The consent state machine (DESIGN §3). Pure: no storage, no clock, no DOM —
 * the tracker feeds it the stored record, signals and the time, and persists what it returns.
 */
export type ConsentValue = 'pending' | 'granted' | 'denied'
export type ConsentMode = 'opt-in' | 'opt-out'
export type ConsentStates = Record<string, ConsentValue>

/** The built-in categories; projects may add their own. `necessary` is always granted. */
export const CATEGORIES = ['necessary', 'analytics', 'functional', 'marketing', 'replay']

/** What travels on every event as `context.consent`, and what `getConsent()` returns. */
export interface ConsentSnapshot {
  id: string
  state: ConsentStates
  revision: string | number
  source: string
  mode: ConsentMode
  /** False until the visitor (or the site on their behalf) has made a choice: tells "not asked" from "declined". */
  decided: boolean
  /** When the choice was made (ms since epoch); absent while undecided. */
  timestamp?: number
}

/** The `necessary` record kept on the device: the visitor's own choice, nothing else. */
export interface ConsentRecord {
  id: string
  state: ConsentStates
  revision: string | number
  source: string
  timestamp: number
}

export interface ConsentPolicy {
  mode: ConsentMode
  categories: string[]
  revision: string | number
  /** How long a choice stays valid: a refusal 6 months, an acceptance 13 months by default. */
  expiryDays: { granted: number; denied: number }
}

const DAY = 86_400_000

export class Consent {
  state: ConsentStates = {}
  source = 'default'
  timestamp?: number

  constructor(readonly policy: ConsentPolicy, public id: string) {
    for (const c of policy.categories) this.state[c] = c === 'necessary' ? 'granted' : 'pending'
  }

  /** Whether a category may be used now: granted, or still pending under the opt-out (US) model. */
  allows(category: string): boolean {
    const v = this.state[category]
    return v === 'granted' || (v === 'pending' && this.policy.mode === 'opt-out')
  }

  /**
   * Adopt a stored record unless it belongs to an older policy revision or has expired:
   * either way the visitor must be asked again, so their categories fall back to pending.
   */
  restore(record: ConsentRecord | undefined, now: number): void {
    if (!record || typeof record.state !== 'object' || !record.id) return
    this.id = record.id
    if (record.revision !== this.policy.revision || now >= expiresAt(record, this.policy)) return
    for (const c of Object.keys(record.state)) this.state[c] = c === 'necessary' ? 'granted' : record.state[c]
    this.source = record.source
    this.timestamp = record.timestamp
  }

  /** Default a still-pending category to denied, for privacy signals such as GPC. */
  denyIfPending(category: string, source: string): void {
    if (this.state[category] === 'pending') {
      this.state[category] = 'denied'
      if (this.timestamp === undefined) this.source = source
    }
  }

  /**
   * Merge a choice. Returns the categories whose effective permission flipped,
   * so the tracker can purge what was captured under a withdrawn one (hard rule 3).
   */
  update(changes: Partial<ConsentStates>, source: string, now: number): { granted: string[]; withdrawn: string[] } {
    const before: Record<string, boolean> = {}
    for (const c of Object.keys(this.state)) before[c] = this.allows(c)
    for (const c of Object.keys(changes)) {
      const v = changes[c]
      if (c === 'necessary' || (v !== 'granted' && v !== 'denied' && v !== 'pending')) continue
      this.state[c] = v
    }
    this.source = source
    this.timestamp = now
    const granted: string[] = []
    const withdrawn: string[] = []
    for (const c of Object.keys(this.state)) {
      const after = this.allows(c)
      if (after && !before[c]) granted.push(c)
      if (!after && before[c]) withdrawn.push(c)
    }
    return { granted, withdrawn }
  }

  /** Every category denied except `necessary`: what opting out means. */
  denyAll(): Partial<ConsentStates> {
    const all: ConsentStates = {}
    for (const c of Object.keys(this.state)) all[c] = 'denied'
    return all
  }

  record(): ConsentRecord {
    return { id: this.id, state: { ...this.state }, revision: this.policy.revision, source: this.source, timestamp: this.timestamp || 0 }
  }

  snapshot(): ConsentSnapshot {
    const s: ConsentSnapshot = {
      id: this.id,
      state: { ...this.state },
      revision: this.policy.revision,
      source: this.source,
      mode: this.policy.mode,
      decided: this.timestamp !== undefined,
    }
    if (this.timestamp !== undefined) s.timestamp = this.timestamp
    return s
  }
}

/** A refusal expires sooner than an acceptance (CNIL: ask again after 6 months; consent lasts 13). */
export function expiresAt(record: ConsentRecord, policy: ConsentPolicy): number {
  const anyGranted = Object.keys(record.state).some((c) => c !== 'necessary' && record.state[c] === 'granted')
  return record.timestamp + (anyGranted ? policy.expiryDays.granted : policy.expiryDays.denied) * DAY
}
