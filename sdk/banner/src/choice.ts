/**
 * The banner's decisions, as pure functions of the tracker's consent snapshot and the clock:
 * whether to ask, what each button records, how switches depend on each other.
 */
import type { ConsentValue, ConsentView } from './host'

/** How long a choice holds before the banner asks again, in days. */
export interface Lifetime {
  granted: number
  denied: number
}

/**
 * CNIL's guidance: ask again after a refusal no sooner than 6 months (it recommends keeping
 * the choice that long), and renew a consent at the latest after 13 months, the longest a
 * tracker may live. The tracker's own record expires on the same defaults.
 */
export const CNIL_LIFETIME: Lifetime = { granted: 395, denied: 182 }

const DAY = 86_400_000

/** Whether the choice counts as an acceptance: any category besides `necessary` granted. */
export function grantsAnything(state: ConsentView['state']): boolean {
  return Object.keys(state).some((c) => c !== 'necessary' && state[c] === 'granted')
}

/**
 * Whether to show the first layer: nothing decided under the current policy revision (the
 * tracker's record falls back to undecided on a new revision or when it expired), or the
 * choice is older than the banner's lifetime. Never for a visitor who opted out: they said no
 * to everything, and the "Privacy choices" entry point lets them come back.
 */
export function shouldAsk(consent: ConsentView, optedOut: boolean, lifetime: Lifetime, now: number): boolean {
  if (optedOut) return false
  if (!consent.decided || consent.timestamp === undefined) return true
  const days = grantsAnything(consent.state) ? lifetime.granted : lifetime.denied
  return now >= consent.timestamp + days * DAY
}

/** The categories that get a switch: every category the tracker knows but `necessary`, or the site's list. */
export function askedCategories(consent: ConsentView, only?: string[]): string[] {
  const known = Object.keys(consent.state).filter((c) => c !== 'necessary')
  return only ? only.filter((c) => c !== 'necessary') : known
}

/**
 * What "Accept all" / "Reject all" record: every asked category set to `value`, except the
 * locked ones (a browser signal refused them), which stay denied.
 */
export function everything(categories: string[], value: 'granted' | 'denied', locked: string[]): Record<string, ConsentValue> {
  const out: Record<string, ConsentValue> = {}
  for (const c of categories) out[c] = locked.includes(c) ? 'denied' : value
  return out
}

/** What "Save choices" records: each switch as set; locked categories denied whatever the switch says. */
export function fromSwitches(categories: string[], on: (category: string) => boolean, locked: string[]): Record<string, ConsentValue> {
  const out: Record<string, ConsentValue> = {}
  for (const c of categories) out[c] = on(c) && !locked.includes(c) ? 'granted' : 'denied'
  return out
}

/**
 * Categories that are useless without another: a replay belongs to the visitor's session,
 * which only `analytics` allows, so the tracker never records one without it.
 */
export const REQUIRES: Record<string, string[]> = { replay: ['analytics'] }

/**
 * Switch states after the visitor flipped `changed`: switching a category on switches on what
 * it requires; switching one off switches off what requires it. Returns the switches to flip.
 */
export function followDependencies(on: Record<string, boolean>, changed: string): Record<string, boolean> {
  const flips: Record<string, boolean> = {}
  for (const [dependent, needs] of Object.entries(REQUIRES)) {
    if (on[changed] && dependent === changed) for (const n of needs) if (n in on && !on[n]) flips[n] = true
    if (!on[changed] && needs.includes(changed) && on[dependent]) flips[dependent] = false
  }
  return flips
}

/** The switches shown when the second layer opens: the current choice if one holds, otherwise all off. */
export function initialSwitches(consent: ConsentView, categories: string[], asking: boolean): Record<string, boolean> {
  const out: Record<string, boolean> = {}
  for (const c of categories) out[c] = !asking && consent.state[c] === 'granted'
  return out
}
