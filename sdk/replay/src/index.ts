/**
 * @assent/replay — session replay that respects consent, on rrweb.
 *
 *   import { init } from '@assent/browser'
 *   import { startReplay } from '@assent/replay'
 *   const assent = init({ writeKey: 'pk_…', endpoint: 'https://collect.example.com' })
 *   startReplay(assent, { writeKey: 'pk_…', endpoint: 'https://collect.example.com', sampleRate: 0.2 })
 *
 * Recording starts only when the visitor grants `replay` (and `analytics`, for the session it
 * belongs to); it stops at once, discarding what was not sent, when `replay` is withdrawn or
 * the visitor opts out, and never runs under anonymous tracking.
 */
import type { ReplayHost } from './host'
import { ReplayOptions, resolveOptions } from './options'
import { Replay } from './replay'

export type { ConsentView, ReplayHost } from './host'
export type { MaskLevel } from './masking'
export type { ReplayOptions } from './options'
export type { ReplayStats } from './replay'
export { Replay }

export function startReplay(tracker: ReplayHost, options: ReplayOptions, defaultEndpoint: string = location.origin): Replay {
  return new Replay(tracker, resolveOptions(options, defaultEndpoint))
}

export const version: string = __VERSION__

declare const __VERSION__: string
