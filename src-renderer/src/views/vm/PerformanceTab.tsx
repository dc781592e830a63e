import { useMemo } from 'react';
import { ErrorBox } from '../../components/common';
import { PerformanceCharts } from '../../components/charts/PerformanceCharts';
import { vmPerformance } from '../../components/charts/performance-series';
import { useHostStats } from '../use-host-stats';

/** The VM's CPU, memory, disk and network over the last five minutes, read from its host every 2 s. */
export function PerformanceTab({ hostName, vmName, running }: { hostName: string; vmName: string; running: boolean }) {
  const { readings, error } = useHostStats(hostName);
  const series = useMemo(() => vmPerformance(readings, vmName), [readings, vmName]);
  return (
    <div className="performance-tab">
      <ErrorBox error={error} title="Could not read the host's counters" />
      {!running ? <div className="muted pad">The VM is not running: there is nothing to measure. Start it and the graphs fill in.</div> : null}
      {running && series.memory.length === 0 && !error ? <div className="muted pad">Reading the first counters…</div> : null}
      <PerformanceCharts series={series} subject="VM" kind="vm" />
    </div>
  );
}
