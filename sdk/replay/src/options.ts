import type { MaskLevel } from './masking'

export interface ReplayOptions {
  /** The project's write key (the same as the tracker's). */
  writeKey: string
  /** The collector; default: where the script came from (IIFE) or the page's origin. */
  endpoint?: string
  /** Share of sessions recorded, 0 to 1 (default 1); decided once per session. */
  sampleRate?: number
  /** `light`: sensitive inputs only; `medium` (default): every input; `conservative`: every input and all text. */
  maskLevel?: MaskLevel
  /** Elements not recorded at all (shown as an empty box), besides `.ast-block`. */
  blockSelector?: string
  /** Elements whose text and inputs are masked, besides `.ast-mask`. */
  maskSelector?: string
  /** Elements recorded as they are, besides `.ast-unmask`. Password and card fields stay masked. */
  unmaskSelector?: string
  /** A chunk is sent at least this often while recording (default 5000 ms). */
  flushIntervalMs?: number
  /** Chunks waiting for a retry are kept in memory up to this many (default 20, oldest dropped). */
  maxPendingChunks?: number
}

export interface ResolvedReplayOptions {
  writeKey: string
  endpoint: string
  sampleRate: number
  maskLevel: MaskLevel
  blockSelector?: string
  maskSelector?: string
  unmaskSelector?: string
  flushIntervalMs: number
  maxPendingChunks: number
}

export function resolveOptions(options: ReplayOptions, defaultEndpoint: string): ResolvedReplayOptions {
  const rate = options.sampleRate ?? 1
  return {
    writeKey: String(options.writeKey || ''),
    endpoint: (options.endpoint || defaultEndpoint).replace(/\/+$/, ''),
    sampleRate: rate >= 0 && rate <= 1 ? rate : 1,
    maskLevel: options.maskLevel === 'light' || options.maskLevel === 'conservative' ? options.maskLevel : 'medium',
    blockSelector: options.blockSelector,
    maskSelector: options.maskSelector,
    unmaskSelector: options.unmaskSelector,
    flushIntervalMs: options.flushIntervalMs || 5000,
    maxPendingChunks: options.maxPendingChunks || 20,
  }
}
