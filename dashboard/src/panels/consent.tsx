// Consent analytics: what visitors chose in each category, how the banner was answered,
// browser signals, and how much is kept without identifiers.

import { useMemo } from 'preact/hooks'
import { Consent, csvHref, get } from '../api'
import { TimeChart } from '../chart'
import { count, exact, share } from '../format'
import { useLoaded } from '../loading'
import { View, viewParams } from '../view'

export function ConsentPanel({ view }: { view: View }) {
  const params = viewParams(view)
  const { data, error, loading } = useLoaded(`consent?${params}`, () => get<Consent>('consent', params))
  const chart = useMemo(() => {
    if (!data) return undefined
    const of = (f: (p: Consent['series'][number]) => number) => data.series.map((p) => (p.choices.total ? f(p) / p.choices.total : null))
    return {
      times: data.series.map((p) => p.startMs),
      series: [
        { label: 'Accept all', values: of((p) => p.choices.acceptAll), color: '#15803d' },
        { label: 'Reject all', values: of((p) => p.choices.rejectAll), color: '#b91c1c' },
        { label: 'Custom', values: of((p) => p.choices.custom), color: '#b45309' },
      ],
    }
  }, [data])
  const c = data?.choices
  return (
    <section class="card wide" aria-labelledby="consent-title" data-panel="consent" aria-busy={loading}>
      <header class="card-head">
        <h2 id="consent-title">Consent</h2>
        <a class="csv" href={csvHref('consent', params)} download>
          CSV
        </a>
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      {data && c && (
        <>
          <div class="kpis small">
            <Figure label="Consent choices" value={exact(c.total)} name="choices" />
            <Figure label="Accept all" value={share(c.acceptAll, c.total)} name="accept-all" />
            <Figure label="Reject all" value={share(c.rejectAll, c.total)} name="reject-all" />
            <Figure label="Custom" value={share(c.custom, c.total)} name="custom" />
            <Figure label="Opt-outs" value={exact(c.optOuts)} name="opt-outs" />
            <Figure label="Visitors with GPC" value={share(data.gpcVisitors, data.visitors)} name="gpc" />
            <Figure label="Visitors with DNT" value={share(data.dntVisitors, data.visitors)} name="dnt" />
            <Figure label="Events without identifiers" value={share(data.eventsWithoutIdentifiers, data.events)} name="without-ids" />
          </div>
          <div class="split">
            <div>
              <h3>Visitors by category</h3>
              <ul class="stacks" aria-label="Share of visitors in each state, per category">
                {data.categories.map((cat) => {
                  const all = cat.granted + cat.denied + cat.notAnswered + cat.unknown
                  const parts: [string, number, string][] = [
                    ['granted', cat.granted, 'Granted'],
                    ['denied', cat.denied, 'Denied'],
                    ['pending', cat.notAnswered, 'Not answered'],
                    ['unknown', cat.unknown, 'Unknown'],
                  ]
                  return (
                    <li data-category={cat.category}>
                      <span class="stack-label">{cat.category}</span>
                      <span class="stack" aria-hidden="true">
                        {parts.map(([k, n]) => n > 0 && <span class={`part ${k}`} style={{ width: `${(100 * n) / all}%` }} />)}
                      </span>
                      <span class="stack-figures">
                        {parts.filter(([, n]) => n > 0).map(([k, n, label]) => (
                          <span data-state={k} data-count={n}>
                            {label} {share(n, all)}
                          </span>
                        ))}
                      </span>
                    </li>
                  )
                })}
              </ul>
              <h3>Choices by policy revision</h3>
              <table class="plain" data-table="revisions">
                <thead>
                  <tr>
                    <th scope="col">Revision</th>
                    <th scope="col" class="num">Choices</th>
                    <th scope="col" class="num">Accept all</th>
                    <th scope="col" class="num">Reject all</th>
                    <th scope="col" class="num">Custom</th>
                  </tr>
                </thead>
                <tbody>
                  {data.byRevision.map((r) => (
                    <tr>
                      <th scope="row">{r.name}</th>
                      <td class="num">{count(r.total)}</td>
                      <td class="num">{share(r.acceptAll, r.total)}</td>
                      <td class="num">{share(r.rejectAll, r.total)}</td>
                      <td class="num">{share(r.custom, r.total)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p class="sources">
                Choices came from:{' '}
                {data.bySource.map((s, i) => (
                  <span>
                    {i > 0 && ', '}
                    {s.name} ({count(s.total)})
                  </span>
                ))}
              </p>
            </div>
            <div>
              <h3>Banner answers over time</h3>
              {chart && <TimeChart times={chart.times} series={chart.series} height={220} format={(v) => `${Math.round(v * 100)}%`} label="Share of consent choices that accepted all, rejected all, or chose per category, per bucket" />}
            </div>
          </div>
          <p class="note">
            <strong>Choices</strong> are the consent events recorded in the period (each one is in the consent ledger). A visitor's
            state in a category is the latest consent their events carried that day, among the visitors counted under
            Traffic; visitors whose trackers send nothing until they answer, or who refused and are measured anonymously, are
            seen only through their choice. “Unknown”: their events carried no consent at all (a tracker that sends none).
          </p>
        </>
      )}
    </section>
  )
}

function Figure({ label, value, name }: { label: string; value: string; name: string }) {
  return (
    <div class="kpi static" data-figure={name}>
      <span class="kpi-label">{label}</span>
      <span class="kpi-value">{value}</span>
    </div>
  )
}
