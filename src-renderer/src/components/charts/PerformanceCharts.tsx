import { useMemo } from 'react';
import { formatBytes } from '../../util/format';
import { useElementWidth } from '../common';
import type { PerformanceSeries } from './performance-series';
import { PERFORMANCE_WINDOW_SECONDS } from './performance-series';
import { TimeSeriesChart, type ChartSeries } from './TimeSeriesChart';

const CPU: ChartSeries[] = [{ key: 'cpu', name: 'CPU', color: 1 }];
const HOST_MEMORY: ChartSeries[] = [{ key: 'used', name: 'Used', color: 2 }];
const VM_MEMORY: ChartSeries[] = [{ key: 'rss', name: 'Resident (RSS)', color: 2 }];
const DISK: ChartSeries[] = [
  { key: 'read', name: 'Read', color: 3 },
  { key: 'write', name: 'Write', color: 4 },
];
const NETWORK: ChartSeries[] = [
  { key: 'received', name: 'Received', color: 5 },
  { key: 'sent', name: 'Sent', color: 6 },
];

/** CPU, memory, disk and network of a host or a VM, as virt-manager's Performance tab draws them. */
export function PerformanceCharts({ series, subject, kind }: { series: PerformanceSeries; subject: string; kind: 'host' | 'vm' }) {
  const { ref, width } = useElementWidth<HTMLDivElement>(640);
  const chartWidth = Math.max(280, width >= 900 ? Math.floor((width - 16) / 2) - 12 : width - 12);
  const last = Math.max(series.memory[series.memory.length - 1]?.t ?? 0, 1);
  // The window slides once it is full; until then the charts start at 0.
  const domain = useMemo<[number, number]>(() => [Math.max(0, last - PERFORMANCE_WINDOW_SECONDS), last], [last]);
  const cpus = `${series.cpuCount} CPU${series.cpuCount === 1 ? '' : 's'}`;
  return (
    <div className="charts" ref={ref}>
      <TimeSeriesChart title={`${subject} CPU usage (% of the host's ${cpus})`} points={series.cpu} series={CPU} unit="percent" yDomain={[0, 100]} width={chartWidth} domain={domain} />
      <TimeSeriesChart title={kind === 'host' ? `${subject} memory in use (of ${formatBytes(series.memoryTotalBytes)})` : `${subject} memory (QEMU resident set)`} points={series.memory} series={kind === 'host' ? HOST_MEMORY : VM_MEMORY} unit="bytes" width={chartWidth} domain={domain} {...(series.memoryTotalBytes !== null ? { yDomain: [0, series.memoryTotalBytes] as [number, number] } : {})} />
      <TimeSeriesChart title={`${subject} disk I/O`} points={series.disk} series={DISK} unit="rate" width={chartWidth} domain={domain} />
      {series.network ? (
        <TimeSeriesChart title={`${subject} network`} points={series.network} series={NETWORK} unit="rate" width={chartWidth} domain={domain} />
      ) : (
        <figure className="chart chart-note-figure" aria-label={`${subject} network`}>
          <figcaption>{subject} network</figcaption>
          <p className="chart-note">{series.networkNote}</p>
        </figure>
      )}
    </div>
  );
}
