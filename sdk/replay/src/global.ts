/** The IIFE entry: `window.AssentReplay.start(tracker, options)`, next to `window.Assent`. */
import { startReplay, version } from './index'
import type { ReplayHost } from './host'
import type { ReplayOptions } from './options'

// Captured while the script runs: later, document.currentScript is gone.
const script = document.currentScript as HTMLScriptElement | null
const scriptOrigin = script && script.src ? new URL(script.src).origin : location.origin

;(window as unknown as { AssentReplay: unknown }).AssentReplay = {
  version,
  start: (tracker: ReplayHost, options: ReplayOptions) => startReplay(tracker, options, scriptOrigin),
}
