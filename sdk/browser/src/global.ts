/**
 * The IIFE entry: `window.Assent`. The async snippet defines a stub `Assent.init()` that
 * returns stub trackers recording calls; when this script arrives it starts the real
 * trackers, replays the recorded calls in order and turns the stubs into forwarders, so a
 * page that kept a stub keeps working.
 */
import type { AssentConfig } from './config'
import { init, Tracker, version } from './index'

interface Stub {
  config: AssentConfig
  calls: Array<[string, ArrayLike<unknown>]>
  [method: string]: unknown
}

// Captured while the script runs: later, document.currentScript is gone.
const script = document.currentScript as HTMLScriptElement | null
const scriptOrigin = script && script.src ? new URL(script.src).origin : location.origin

const waiting = ((window as { Assent?: { stubs?: Stub[] } }).Assent || {}).stubs || []

// Add-ons loaded first (assent-cross-domain.min.js, …) already put their functions there: keep them.
const w = window as unknown as { Assent?: object }
const Assent = (w.Assent = Object.assign(w.Assent || {}, {
  version,
  init: (config: AssentConfig) => init(config, scriptOrigin),
}))

for (const stub of waiting) {
  const tracker = Assent.init(stub.config) as unknown as Record<string, (...args: unknown[]) => unknown>
  for (const [method, args] of stub.calls) {
    try {
      tracker[method](...Array.prototype.slice.call(args))
    } catch (e) {
      console.error('[assent] queued call failed:', method, e)
    }
  }
  for (const method of Object.getOwnPropertyNames(Tracker.prototype)) {
    if (method !== 'constructor') stub[method] = tracker[method].bind(tracker)
  }
}
