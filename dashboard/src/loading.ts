// Every panel fetches on its own; the page is "ready" (for people: no spinner; for tests and
// the benchmark: `<body data-state="ready">`) once none is still waiting.

import { useEffect, useRef, useState } from 'preact/hooks'
import { Unauthorized } from './api'

let pending = 0
let onSignedOut: () => void = () => {}

export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback
}

function mark(delta: number): void {
  pending += delta
  document.body.dataset.state = pending > 0 ? 'loading' : 'ready'
}

export interface Loaded<T> {
  data?: T
  error?: string
  loading: boolean
}

/** Loads `load()` again whenever `key` changes; a stale answer never replaces a newer one. */
export function useLoaded<T>(key: string, load: () => Promise<T>): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ loading: true })
  // Counted as pending from the render that asks for it, not from the effect after it: in
  // between, the page must not look ready with the previous view's figures.
  const asked = useRef<string | undefined>(undefined)
  if (asked.current !== key) {
    asked.current = key
    mark(1)
  }
  useEffect(() => {
    let current = true
    setState((s) => ({ ...s, loading: true }))
    load()
      .then((data) => current && setState({ data, loading: false }))
      .catch((e: unknown) => {
        if (e instanceof Unauthorized) return onSignedOut()
        if (current) setState({ error: e instanceof Error ? e.message : String(e), loading: false })
      })
      .finally(() => mark(-1))
    return () => {
      current = false
    }
  }, [key])
  return state
}
