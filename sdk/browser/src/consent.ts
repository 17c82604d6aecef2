import { FORMAT } from './stored-format'

/**
 * The consent state machine (docs/architecture.md, "Consent model"). Pure: no storage, no
 * clock, no DOM — the tracker feeds it the stored record, signals and the time, and persists
 * what it returns.
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
  /** The stored format's version (see `FORMAT` in stored-identity.ts); absent before version 2. */
  v?: number
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
  /** Categories a browser signal denies whatever the visitor chose (GPC: `marketing`). */
  #forced: ConsentStates = {}
  /** The snapshot events share until the next change: making one per event cost more than the rest of the event. */
  #shared?: ConsentSnapshot

  constructor(readonly policy: ConsentPolicy, public id: string) {
    this.reset()
  }

  /** Back to "not asked yet": every category pending, except what `necessary` and signals fix. */
  reset(): void {
    this.#shared = undefined
    for (const c of this.policy.categories) this.state[c] = c === 'necessary' ? 'granted' : 'pending'
    this.source = 'default'
    this.timestamp = undefined
    Object.assign(this.state, this.#forced)
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
    this.#shared = undefined
    this.id = record.id
    if (record.revision !== this.policy.revision || now >= expiresAt(record, this.policy)) return
    for (const c of Object.keys(record.state)) this.state[c] = c === 'necessary' ? 'granted' : record.state[c]
    this.source = record.source
    this.timestamp = record.timestamp
  }

  /**
   * Deny a category for as long as a browser signal says so, whatever was or will be granted.
   * Returns whether that overrode the visitor's grant: a change of their consent, made by
   * `source` at `now`, that the ledger must hear about.
   */
  force(category: string, source: string, now: number): boolean {
    const overrode = this.allows(category) && this.timestamp !== undefined
    this.#shared = undefined
    this.state[category] = this.#forced[category] = 'denied'
    if (overrode) this.timestamp = now
    if (overrode || this.timestamp === undefined) this.source = source
    return overrode
  }

  /**
   * Merge a choice. Returns the categories whose effective permission flipped,
   * so the tracker can purge what was captured under a withdrawn one. A forced category stays denied.
   */
  update(changes: Partial<ConsentStates>, source: string, now: number): { granted: string[]; withdrawn: string[] } {
    this.#shared = undefined
    const before: Record<string, boolean> = {}
    for (const c of Object.keys(this.state)) before[c] = this.allows(c)
    for (const c of Object.keys(changes)) {
      const v = changes[c]
      if (c === 'necessary' || (v !== 'granted' && v !== 'denied' && v !== 'pending')) continue
      this.state[c] = v
    }
    Object.assign(this.state, this.#forced)
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
    return { v: FORMAT, id: this.id, state: { ...this.state }, revision: this.policy.revision, source: this.source, timestamp: this.timestamp || 0 }
  }

  /** The current snapshot, shared by every event captured until the next change: never mutate it. */
  shared(): ConsentSnapshot {
    if (!this.#shared || this.#shared.id !== this.id) this.#shared = this.snapshot()
    return this.#shared
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

/**
 * Global Privacy Control, by the one rule the tracker and the collector share
 * (spec/policy-vectors.json, `gpc`; reasoning in docs/decisions.md): it denies `marketing`
 * (sale and sharing) even over an earlier grant, or means a full opt-out where the project
 * maps it so. Returns `'optOut'`, or whether an earlier grant was overridden.
 */
export function followGpc(consent: Consent, rule: true | 'optOut', now: number): 'optOut' | boolean {
  return rule === 'optOut' ? rule : consent.force('marketing', 'gpc', now)
}

/** A refusal expires sooner than an acceptance (CNIL: ask again after 6 months; consent lasts 13). */
export function expiresAt(record: ConsentRecord, policy: ConsentPolicy): number {
  const anyGranted = Object.keys(record.state).some((c) => c !== 'necessary' && record.state[c] === 'granted')
  return record.timestamp + (anyGranted ? policy.expiryDays.granted : policy.expiryDays.denied) * DAY
}
