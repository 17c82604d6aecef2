/**
 * localStorage / sessionStorage that never throws into the host page: storage can be
 * disabled (Safari private mode, sandboxed frames, blocked cookies) or full (QuotaExceededError).
 */
export type WebStorageKind = 'localStorage' | 'sessionStorage'

function area(kind: WebStorageKind): Storage | undefined {
  try {
    return window[kind] || undefined
  } catch {
    return undefined
  }
}

export function readWebStorage(kind: WebStorageKind, key: string): string | undefined {
  try {
    const v = area(kind)?.getItem(key)
    return v === null || v === undefined ? undefined : v
  } catch {
    return undefined
  }
}

/** Returns false when the write did not happen (quota, disabled storage). */
export function writeWebStorage(kind: WebStorageKind, key: string, value: string): boolean {
  try {
    const s = area(kind)
    if (!s) return false
    s.setItem(key, value)
    return true
  } catch {
    return false
  }
}

export function removeWebStorage(kind: WebStorageKind, key: string): void {
  try {
    area(kind)?.removeItem(key)
  } catch {
    // nothing to remove from storage we cannot reach
  }
}
