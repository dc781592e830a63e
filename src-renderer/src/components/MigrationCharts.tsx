import { useMemo } from 'react';
import type { MigrationSample } from '../../../src-main/core/api/types';
import { useElementWidth } from './common';
import { migrationSeries } from './charts/migration-series';
import { TimeSeriesChart, type ChartSeries } from './charts/TimeSeriesChart';

const MEMORY: ChartSeries[] = [
  { key: 'ramTransferred', name: 'Transferred', color: 1 },
  { key: 'ramRemaining', name: 'Remaining', color: 2 },
];
const RATES: ChartSeries[] = [
  { key: 'throughput', name: 'Throughput', color: 3 },
  { key: 'dirtyRate', name: 'Dirty rate', color: 4 },
];
const DISK: ChartSeries[] = [
  { key: 'transferred', name: 'Sent', color: 1 },
  { key: 'remaining', name: 'Left to send', color: 2 },
];

/** The charts of one migration; the live view and the History pass the same samples and draw the same series. */
export function MigrationCharts({ samples }: { samples: readonly MigrationSample[] }) {
  const { ref, width } = useElementWidth<HTMLDivElement>(640);
  // Two charts per row when there is room; each figure adds 10px of padding and border.
  const chartWidth = Math.max(280, width >= 900 ? Math.floor((width - 16) / 2) - 12 : width - 12);
  const series = useMemo(() => migrationSeries(samples), [samples]);
  // Every chart shares one time range, so a moment sits at the same place in each.
  const domain = useMemo<[number, number]>(() => [0, Math.max(series.memory[series.memory.length - 1]?.t ?? 0, 1)], [series]);
  return (
    <div className="charts" ref={ref}>
      <TimeSeriesChart title="Memory: transferred and remaining" points={series.memory} series={MEMORY} unit="bytes" width={chartWidth} domain={domain} />
      <TimeSeriesChart title="Throughput vs dirty rate" points={series.rates} series={RATES} unit="rate" width={chartWidth} domain={domain} />
      {series.disks.map((disk) => (
        <TimeSeriesChart key={disk.device} title={`Disk ${disk.device}: transferred and remaining`} points={disk.points} series={DISK} unit="bytes" width={chartWidth} domain={domain} />
      ))}
    </div>
  );
}
