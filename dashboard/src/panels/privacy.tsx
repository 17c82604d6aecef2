// Privacy operations: deletions and exports over time, events refused because their subject
// was deleted, the consent ledger's last check, and what expires when.

import { useMemo } from 'preact/hooks'
import { csvHref, get, Privacy } from '../api'
import { TimeChart } from '../chart'
import { date, dateTime, exact } from '../format'
import { useLoaded } from '../loading'
import { View, viewParams } from '../view'

const KINDS: Record<string, string> = {
  events: 'Events',
  consent: 'Consent ledger',
  replays: 'Session replays',
  identity_links: 'Identity links',
}

export function PrivacyPanel({ view }: { view: View }) {
  const params = viewParams({ ...view, filters: [] })
  const { data, error, loading } = useLoaded(`privacy?${params}`, () => get<Privacy>('privacy', params))
  const chart = useMemo(
    () =>
      data && {
        times: data.series.map((p) => p.startMs),
        series: [
          { label: 'Deletions', values: data.series.map((p) => p.deletions), color: '#b91c1c' },
          { label: 'Exports', values: data.series.map((p) => p.exports), color: '#1d4ed8' },
        ],
      },
    [data],
  )
  const t = data?.totals
  return (
    <section class="card wide" aria-labelledby="privacy-title" data-panel="privacy" aria-busy={loading}>
      <header class="card-head">
        <h2 id="privacy-title">Privacy operations</h2>
        <a class="csv" href={csvHref('privacy', params)} download>
          CSV
        </a>
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      {data && t && (
        <>
          <div class="kpis small">
            <div class="kpi static" data-figure="deletions"><span class="kpi-label">Deletions</span><span class="kpi-value">{exact(t.deletions)}</span></div>
            <div class="kpi static" data-figure="exports"><span class="kpi-label">Exports</span><span class="kpi-value">{exact(t.exports)}</span></div>
            <div class="kpi static" data-figure="events-deleted"><span class="kpi-label">Events deleted</span><span class="kpi-value">{exact(t.eventsDeleted)}</span></div>
            <div class="kpi static" data-figure="suppressed"><span class="kpi-label">Suppressed events</span><span class="kpi-value">{exact(t.suppressed)}</span></div>
            <div class="kpi static" data-figure="retention-runs"><span class="kpi-label">Retention runs</span><span class="kpi-value">{exact(t.retentionRuns)}</span></div>
            <div class="kpi static" data-figure="replay-views"><span class="kpi-label">Replays viewed</span><span class="kpi-value">{exact(t.replayViews)}</span></div>
          </div>
          <div class="split">
            <div>
              {chart && <TimeChart times={chart.times} series={chart.series} height={180} label={`Deletions and exports per bucket: ${t.deletions} deletions, ${t.exports} exports in the period`} />}
            </div>
            <div>
              <h3>Consent ledger</h3>
              <p class={`ledger ${data.ledger?.problem ? 'bad' : 'good'}`} data-ledger={data.ledger ? (data.ledger.problem ? 'broken' : 'verified') : 'unchecked'}>
                {!data.ledger && 'Not checked yet since the collector started.'}
                {data.ledger && !data.ledger.problem && `✓ Verified: ${exact(data.ledger.entries)} entries, hash chain intact (checked ${dateTime(data.ledger.checkedAtMs)}).`}
                {data.ledger?.problem && `✗ Broken after ${exact(data.ledger.entries)} entries: ${data.ledger.problem}`}
              </p>
              <h3>Retention</h3>
              <table class="plain" data-table="retention">
                <thead>
                  <tr>
                    <th scope="col">Data</th>
                    <th scope="col">Kept for</th>
                    <th scope="col">Next expiry</th>
                  </tr>
                </thead>
                <tbody>
                  {data.retention.map((r) => (
                    <tr data-kind={r.kind}>
                      <th scope="row">{KINDS[r.kind] || r.kind}</th>
                      <td>{r.keepDays === null ? 'until deleted' : `${r.keepDays} days`}</td>
                      <td>{r.nextExpiryMs ? `${date(data.oldestEventsMs!)} goes on ${date(r.nextExpiryMs)}` : r.keepDays === null ? '–' : 'day by day'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
          <p class="note">Deletions, exports, retention runs and replays viewed come from the audit trail; suppressed events are events of deleted subjects that arrived later and were not stored. Filters do not apply here.</p>
        </>
      )}
    </section>
  )
}
