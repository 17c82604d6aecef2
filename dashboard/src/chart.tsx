// Time series drawn by uPlot (canvas), sized to their card and redrawn when it changes size.
// The figures are also given as text to screen readers (`label`).

import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'

export interface Series {
  label: string
  values: (number | null)[]
  color: string
  dash?: number[]
  fill?: string
}

interface Props {
  /** Bucket starts, in milliseconds. */
  times: number[]
  series: Series[]
  height?: number
  label: string
  format?: (v: number) => string
}

export function TimeChart({ times, series, height = 240, label, format }: Props) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (!el) return
    const fmt = format || ((v: number) => String(v))
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: '#5b6474', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#eef0f4' } },
        { stroke: '#5b6474', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#eef0f4' }, size: 56, values: (_u, vals) => vals.map((v) => fmt(v)) },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          dash: s.dash || (s.label === 'previous period' ? [6, 4] : undefined),
          fill: s.fill || undefined,
          points: { show: times.length <= 14 },
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : fmt(v)),
        })),
      ],
    }
    const data = [times.map((t) => t / 1000), ...series.map((s) => s.values)] as uPlot.AlignedData
    const plot = new uPlot(opts, data, el)
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.destroy()
    }
  }, [times, series, height])
  return <div class="chart" ref={box} role="img" aria-label={label} />
}
