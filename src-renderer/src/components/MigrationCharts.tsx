import { memo, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { MigrationSample } from '../../../src-main/core/api/types';
import { formatBytes, formatRate } from '../util/format';
import { useElementWidth } from './common';

const COLORS = { transferred: '#2f6fdb', remaining: '#d9822b', throughput: '#2a9d6f', dirty: '#c2453d' };
const MARGIN = { top: 8, right: 16, bottom: 4, left: 8 };
const seconds = (t: number) => `${Math.round(t)} s`;
const bytesTick = (v: number) => formatBytes(v, 0);
const rateTick = (v: number) => formatRate(v);
const tooltipBytes = (v: unknown) => formatBytes(Number(v));
const tooltipRate = (v: unknown) => formatRate(Number(v));
const labelSeconds = (t: unknown) => `t = ${Number(t).toFixed(1)} s`;

interface Series {
  key: string;
  name: string;
  color: string;
}

interface ChartProps {
  title: string;
  data: Array<Record<string, number>>;
  series: Series[];
  kind: 'bytes' | 'rate';
  width: number;
}

/** One line chart; props are memoised upstream so recharts only redraws when data changes. */
const Chart = memo(function Chart({ title, data, series, kind, width }: ChartProps) {
  return (
    <figure className="chart" aria-label={title} data-points={data.length}>
      <figcaption>{title}</figcaption>
      <LineChart width={width} height={190} data={data} margin={MARGIN}>
        <CartesianGrid stroke="#e6e8eb" vertical={false} />
        <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} tickFormatter={seconds} tick={{ fontSize: 11 }} stroke="#9aa1a9" />
        <YAxis tickFormatter={kind === 'bytes' ? bytesTick : rateTick} tick={{ fontSize: 11 }} width={78} stroke="#9aa1a9" />
        <Tooltip formatter={kind === 'bytes' ? tooltipBytes : tooltipRate} labelFormatter={labelSeconds} isAnimationActive={false} />
        <Legend wrapperStyle={{ fontSize: 12 }} />
        {series.map((s) => (
          <Line key={s.key} type="monotone" dataKey={s.key} name={s.name} stroke={s.color} strokeWidth={1.8} dot={false} isAnimationActive={false} />
        ))}
      </LineChart>
    </figure>
  );
});

const RAM_SERIES: Series[] = [
  { key: 'ramTransferred', name: 'Transferred', color: COLORS.transferred },
  { key: 'ramRemaining', name: 'Remaining', color: COLORS.remaining },
];
const RATE_SERIES: Series[] = [
  { key: 'throughput', name: 'Throughput', color: COLORS.throughput },
  { key: 'dirtyRate', name: 'Dirty rate', color: COLORS.dirty },
];

export function MigrationCharts({ samples }: { samples: MigrationSample[] }) {
  const { ref, width } = useElementWidth<HTMLDivElement>(640);
  // Two charts per row when there is room; each figure adds 10px of padding and border.
  const chartWidth = Math.max(280, width >= 900 ? Math.floor((width - 16) / 2) - 12 : width - 12);

  const ram = useMemo(() => samples.map((s) => ({ t: s.t / 1000, ramTransferred: s.ram.transferredBytes, ramRemaining: s.ram.remainingBytes })), [samples]);
  const rate = useMemo(() => samples.map((s) => ({ t: s.t / 1000, throughput: s.throughputBps, dirtyRate: s.dirtyRateBps })), [samples]);
  const devices = useMemo(() => {
    const names = new Set<string>();
    for (const s of samples) for (const d of s.disks) names.add(d.device);
    return [...names];
  }, [samples]);
  const disks = useMemo(
    () =>
      devices.map((device) => ({
        device,
        data: samples.flatMap((s) => {
          const d = s.disks.find((x) => x.device === device);
          return d ? [{ t: s.t / 1000, transferred: d.transferredBytes, remaining: d.remainingBytes }] : [];
        }),
      })),
    [samples, devices],
  );
  const diskSeries = useMemo<Series[]>(
    () => [
      { key: 'transferred', name: 'Transferred', color: COLORS.transferred },
      { key: 'remaining', name: 'Remaining', color: COLORS.remaining },
    ],
    [],
  );

  return (
    <div className="charts" ref={ref}>
      <Chart title="Memory: transferred and remaining" data={ram} series={RAM_SERIES} kind="bytes" width={chartWidth} />
      <Chart title="Throughput vs dirty rate" data={rate} series={RATE_SERIES} kind="rate" width={chartWidth} />
      {disks.map((d) => (
        <Chart key={d.device} title={`Disk ${d.device}: transferred and remaining`} data={d.data} series={diskSeries} kind="bytes" width={chartWidth} />
      ))}
    </div>
  );
}
