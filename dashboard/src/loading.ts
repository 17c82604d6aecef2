// Every panel fetches on its own; the page is "ready" (for people: no spinner; for tests and
// the benchmark: `<body data-state="ready">`) once none is still waiting.

import { useEffect, useState } from 'preact/hooks'
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
  useEffect(() => {
    let current = true
    setState((s) => ({ ...s, loading: true }))
    mark(1)
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
