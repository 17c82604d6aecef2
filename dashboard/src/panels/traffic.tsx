// Traffic: the period's figures against the previous period's, and one of them over time.

import { useMemo, useState } from 'preact/hooks'
import { csvHref, get, Traffic, TotalsView } from '../api'
import { TimeChart } from '../chart'
import { change, count, duration, exact, percent } from '../format'
import { useLoaded } from '../loading'
import { View, viewParams } from '../view'

interface Metric {
  key: string
  label: string
  value: (t: TotalsView) => number
  show: (v: number) => string
  /** For bounce rate, down is good. */
  lowerIsBetter?: boolean
  point: (p: Traffic['series'][number]) => number | null
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null)

const METRICS: Metric[] = [
  { key: 'visitors', label: 'Visitors', value: (t) => t.visitors, show: count, point: (p) => p.visitors },
  { key: 'visits', label: 'Visits', value: (t) => t.visits, show: count, point: (p) => p.visits },
  { key: 'pageviews', label: 'Pageviews', value: (t) => t.pageviews, show: count, point: (p) => p.pageviews },
  { key: 'views', label: 'Views per visit', value: (t) => t.viewsPerVisit, show: (v) => v.toFixed(2), point: (p) => ratio(p.pageviews, p.visits) },
  { key: 'bounce', label: 'Bounce rate', value: (t) => t.bounceRate, show: percent, lowerIsBetter: true, point: (p) => ratio(p.bounces, p.visits) },
  { key: 'duration', label: 'Visit duration', value: (t) => t.meanDurationMs, show: duration, point: (p) => ratio(p.durationMs, p.visits) },
]

export function TrafficPanel({ view }: { view: View }) {
  const params = viewParams(view)
  const { data, error, loading } = useLoaded(params.toString(), () => get<Traffic>('traffic', params))
  const [metricKey, setMetric] = useState('visitors')
  const metric = METRICS.find((m) => m.key === metricKey) || METRICS[0]
  const chart = useMemo(() => {
    if (!data) return undefined
    const times = data.series.map((p) => p.startMs)
    const series = [{ label: `${metric.label}, this period`, values: data.series.map(metric.point), color: '#1d4ed8', fill: 'rgba(29, 78, 216, 0.08)' }]
    const previous = data.previousSeries.map(metric.point)
    if (previous.some((v) => v)) series.push({ label: 'previous period', values: previous, color: '#94a3b8', fill: '' })
    return { times, series }
  }, [data, metricKey])
  return (
    <section class="card wide" aria-labelledby="traffic-title" data-panel="traffic" aria-busy={loading}>
      <header class="card-head">
        <h2 id="traffic-title">Traffic</h2>
        <a class="csv" href={csvHref('traffic', params)} download>
          CSV
        </a>
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="kpis" role="group" aria-label="Traffic figures; choose one to chart">
        {METRICS.map((m) => {
          const now = data ? m.value(data.totals) : 0
          const before = data ? m.value(data.previous) : 0
          const c = change(now, before)
          const good = c.direction === 'flat' ? 'flat' : (c.direction === 'up') !== !!m.lowerIsBetter ? 'good' : 'bad'
          return (
            <button
              class={`kpi ${m.key === metric.key ? 'selected' : ''}`}
              aria-pressed={m.key === metric.key}
              data-metric={m.key}
              onClick={() => setMetric(m.key)}
            >
              <span class="kpi-label">{m.label}</span>
              <span class="kpi-value" data-value={now} title={m.key === 'duration' ? undefined : exact(now)}>
                {data ? m.show(now) : '…'}
              </span>
              <span class={`kpi-change ${good}`} title={data ? `previous period: ${m.show(before)}` : undefined}>
                {c.text ? `${c.text} vs previous` : data && 'no earlier data'}
              </span>
            </button>
          )
        })}
      </div>
      {chart && (
        <TimeChart
          times={chart.times}
          series={chart.series}
          format={metric.show}
          label={`${metric.label} per ${data?.interval}: ${metric.show(metric.value(data!.totals))} in the period`}
        />
      )}
      <p class="note">
        <strong>Visitors</strong> are counted per day and added up: a visitor is their consented id where they allowed one,
        else the day's cookieless hash (address and browser, salted daily). Someone who comes back on three days counts three
        times; requests sent anonymously count as pageviews, never as visitors. A <strong>visit</strong> ends after 30
        minutes without an event; a <strong>bounce</strong> is a visit with fewer than two pageviews and events.
      </p>
    </section>
  )
}
