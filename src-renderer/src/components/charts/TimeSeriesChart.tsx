import { memo, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { formatBytes, formatRate } from '../../util/format';
import { formatSeconds, secondsTicks, type ChartPoint } from './time-axis';
import './charts.css';

/** How a series' values read: bytes, bytes per second, or a percentage. */
export type ChartUnit = 'bytes' | 'rate' | 'percent';

export interface ChartSeries {
  key: string;
  name: string;
  /** 1…6: the palette slot, var(--chart-N), so dark mode can change it. */
  color: 1 | 2 | 3 | 4 | 5 | 6;
}

const FALLBACK = ['#2f6fdb', '#d9822b', '#2a9d6f', '#c2453d', '#8e5bd0', '#5f6b7a'];
export const chartColor = (slot: ChartSeries['color']) => `var(--chart-${slot}, ${FALLBACK[slot - 1]})`;

const FORMAT: Record<ChartUnit, { tick: (v: number) => string; value: (v: number) => string }> = {
  bytes: { tick: (v) => formatBytes(v, 0), value: (v) => formatBytes(v) },
  rate: { tick: (v) => formatRate(v), value: (v) => formatRate(v) },
  percent: { tick: (v) => `${Math.round(v)} %`, value: (v) => `${v.toFixed(1)} %` },
};
const MARGIN = { top: 8, right: 16, bottom: 4, left: 8 };

export interface TimeSeriesChartProps {
  title: string;
  points: readonly ChartPoint[];
  series: readonly ChartSeries[];
  unit: ChartUnit;
  width: number;
  height?: number;
  /** The x range in seconds; by default the first to the last point. */
  domain?: [number, number];
  /** A fixed y range, e.g. [0, 100] for percentages. */
  yDomain?: [number, number];
}

/**
 * The one line chart every chart in Ferry uses. Straight segments join real samples (a curve
 * would invent values between them), nothing animates, the x axis is seconds since the start with
 * ticks that never repeat, and the tooltip gives every value with its unit.
 */
export const TimeSeriesChart = memo(function TimeSeriesChart({ title, points, series, unit, width, height = 190, domain, yDomain }: TimeSeriesChartProps) {
  const from = domain?.[0] ?? points[0]?.t ?? 0;
  const to = domain?.[1] ?? points[points.length - 1]?.t ?? 0;
  const ticks = useMemo(() => secondsTicks(from, to), [from, to]);
  const format = FORMAT[unit];
  return (
    <figure className="chart time-series-chart" aria-label={title} data-points={points.length}>
      <figcaption>{title}</figcaption>
      <LineChart width={width} height={height} data={points as ChartPoint[]} margin={MARGIN}>
        <CartesianGrid stroke="var(--border, #d9dde3)" vertical={false} />
        <XAxis dataKey="t" type="number" domain={[from, to]} ticks={ticks} allowDataOverflow tickFormatter={formatSeconds} tick={{ fontSize: 11, fill: 'var(--muted, #646b75)' }} stroke="var(--border-strong, #c4c9d1)" />
        <YAxis domain={yDomain ?? [0, 'auto']} tickFormatter={format.tick} tick={{ fontSize: 11, fill: 'var(--muted, #646b75)' }} width={78} stroke="var(--border-strong, #c4c9d1)" />
        <Tooltip
          isAnimationActive={false}
          formatter={(value) => format.value(Number(value))}
          labelFormatter={(t) => `${formatSeconds(Number(t))} since the start`}
          contentStyle={{ background: 'var(--panel, #fff)', border: '1px solid var(--border, #d9dde3)', color: 'var(--text, #1f2328)' }}
        />
        <Legend wrapperStyle={{ fontSize: 12 }} />
        {series.map((s) => (
          <Line key={s.key} type="linear" dataKey={s.key} name={s.name} stroke={chartColor(s.color)} strokeWidth={1.8} dot={points.length < 3} connectNulls={false} isAnimationActive={false} />
        ))}
      </LineChart>
    </figure>
  );
});
