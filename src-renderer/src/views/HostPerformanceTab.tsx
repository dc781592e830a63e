import { useMemo } from 'react';
import { ErrorBox } from '../components/common';
import { PerformanceCharts } from '../components/charts/PerformanceCharts';
import { hostPerformance } from '../components/charts/performance-series';
import { useHostStats } from './use-host-stats';

/** The host's CPU, memory, disk and network over the last five minutes, read every 2 s. */
export function HostPerformanceTab({ hostName }: { hostName: string }) {
  const { readings, error } = useHostStats(hostName);
  const series = useMemo(() => hostPerformance(readings), [readings]);
  return (
    <div className="performance-tab">
      <ErrorBox error={error} title="Could not read the host's counters" />
      <PerformanceCharts series={series} subject="Host" kind="host" />
    </div>
  );
}
