// Funnels of 2 to 5 steps (pages or custom events) over the visits of visitors who allowed
// analytics: only a consented id links one page of a visit to the next.

import { useState } from 'preact/hooks'
import { csvHref, Funnel, get, TopList } from '../api'
import { count, exact, percent, share } from '../format'
import { useLoaded } from '../loading'
import { View, viewParams } from '../view'

interface Props {
  view: View
  onSteps: (steps: string[]) => void
}

/** Until steps are chosen: the two most visited pages, then the most sent event. */
function useDefaultSteps(view: View): string[] | undefined {
  const params = viewParams({ ...view, filters: [] })
  params.set('limit', '2')
  const key = `funnel-defaults?${params}`
  const { data } = useLoaded(key, () => Promise.all([get<TopList>('top/page', params), get<TopList>('top/event', params)]))
  if (!data) return undefined
  const [pages, events] = data
  return [...pages.rows.map((r) => `page:${r.value}`), ...events.rows.slice(0, 1).map((r) => `event:${r.value}`)]
}

export function FunnelPanel({ view, onSteps }: Props) {
  const defaults = useDefaultSteps(view)
  if (view.steps.length >= 2) return <FunnelCard view={view} steps={view.steps} onSteps={onSteps} />
  if (!defaults) return <section class="card wide" data-panel="funnel" aria-busy="true"><h2>Funnel</h2></section>
  if (defaults.length < 2) return <section class="card wide" data-panel="funnel"><h2>Funnel</h2><p class="empty">Not enough pages or events in this period for a funnel.</p></section>
  return <FunnelCard view={view} steps={defaults} onSteps={onSteps} />
}

function FunnelCard({ view, steps, onSteps }: Props & { steps: string[] }) {
  const [draft, setDraft] = useState<string[] | null>(null)
  const editing = draft || steps
  const params = viewParams({ ...view, steps }, true)
  const { data, error, loading } = useLoaded(`funnel?${params}`, () => get<Funnel>('funnel', params))
  const first = data?.steps[0]?.visits || 0
  const set = (i: number, value: string) => setDraft(editing.map((s, j) => (i === j ? value : s)))
  return (
    <section class="card wide" aria-labelledby="funnel-title" data-panel="funnel" aria-busy={loading}>
      <header class="card-head">
        <h2 id="funnel-title">Funnel</h2>
        <a class="csv" href={csvHref('funnel', params)} download>
          CSV
        </a>
      </header>
      <form
        class="funnel-steps"
        onSubmit={(e) => {
          e.preventDefault()
          onSteps(editing.filter((s) => s.split(':')[1]))
          setDraft(null)
        }}
      >
        {editing.map((s, i) => {
          const [kind, ...rest] = s.split(':')
          const name = rest.join(':')
          return (
            <div class="step-edit">
              <label>
                <span class="sr-only">Step {i + 1} kind</span>
                <select value={kind} onChange={(e) => set(i, `${(e.target as HTMLSelectElement).value}:${name}`)}>
                  <option value="page">Page</option>
                  <option value="event">Event</option>
                </select>
              </label>
              <label>
                <span class="sr-only">Step {i + 1} {kind === 'page' ? 'path' : 'event name'}</span>
                <input value={name} placeholder={kind === 'page' ? '/path' : 'Event name'} onInput={(e) => set(i, `${kind}:${(e.target as HTMLInputElement).value}`)} />
              </label>
              {editing.length > 2 && (
                <button type="button" class="icon" aria-label={`Remove step ${i + 1}`} onClick={() => setDraft(editing.filter((_, j) => j !== i))}>
                  ×
                </button>
              )}
            </div>
          )
        })}
        {editing.length < 5 && (
          <button type="button" class="link" onClick={() => setDraft([...editing, 'page:'])}>
            + Add a step
          </button>
        )}
        <button type="submit" class="primary">
          Show funnel
        </button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {data && (
        <ol class="funnel">
          {data.steps.map((s, i) => {
            const previous = i === 0 ? s.visits : data.steps[i - 1].visits
            return (
              <li data-step={i + 1} data-visits={s.visits}>
                <div class="funnel-label">
                  <span class="step-kind">{s.step.kind === 'page' ? 'Page' : 'Event'}</span> {s.step.name}
                </div>
                <div class="funnel-bar" aria-hidden="true">
                  <span style={{ width: `${first ? (100 * s.visits) / first : 0}%` }} />
                </div>
                <div class="funnel-figures">
                  <strong>{exact(s.visits)}</strong> visits · {share(s.visits, first)} of the first step
                  {i > 0 && <span class="drop"> · {percent(previous ? 1 - s.visits / previous : 0)} dropped off</span>}
                </div>
              </li>
            )
          })}
        </ol>
      )}
      {data && (
        <p class="note">
          Counts the {count(data.consentedVisits)} visits (of {count(data.visits)}) whose visitor allowed analytics: linking one
          page of a visit to the next needs their consent. Steps must happen in this order within one visit.
        </p>
      )}
    </section>
  )
}
