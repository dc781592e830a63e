import type { HostStats, VmStats } from '../../../../src-main/core/api/types';
import type { ChartPoint } from './time-axis';

/** How long the Performance tabs look back, in seconds. */
export const PERFORMANCE_WINDOW_SECONDS = 300;

export interface PerformanceSeries {
  /** Percent of the host's whole CPU capacity (all its CPUs). */
  cpu: ChartPoint[];
  memory: ChartPoint[];
  disk: ChartPoint[];
  /** Null when there are no host counters to draw (a VM with user-mode NICs only). */
  network: ChartPoint[] | null;
  networkNote?: string;
  cpuCount: number;
  memoryTotalBytes: number | null;
}

/** Keeps the readings of the last window, oldest first; a host that rebooted starts a new series. */
export function keepWindow(readings: readonly HostStats[], next: HostStats, windowSeconds = PERFORMANCE_WINDOW_SECONDS): HostStats[] {
  const previous = readings[readings.length - 1];
  const all = previous && next.uptimeSeconds < previous.uptimeSeconds ? [next] : [...readings, next];
  return all.filter((reading) => reading.uptimeSeconds >= next.uptimeSeconds - windowSeconds);
}

/** A rate between two counter readings; a counter that went back (QEMU restarted) is a gap, not a negative rate. */
function rate(before: number | undefined, after: number | undefined, seconds: number): number | null {
  if (before === undefined || after === undefined || seconds <= 0 || after < before) return null;
  return (after - before) / seconds;
}

/** Seconds since the first reading, on the host's own clock. */
const timeOf = (readings: readonly HostStats[], reading: HostStats) => reading.uptimeSeconds - (readings[0]?.uptimeSeconds ?? 0);

/**
 * The host's charts: one point per reading (rates from the reading before it), so every point is a
 * real measurement at its own time.
 */
export function hostPerformance(readings: readonly HostStats[]): PerformanceSeries {
  const series: PerformanceSeries = { cpu: [], memory: [], disk: [], network: [], cpuCount: readings[readings.length - 1]?.cpuCount ?? 1, memoryTotalBytes: readings[readings.length - 1]?.memory.totalBytes ?? null };
  readings.forEach((reading, index) => {
    const t = timeOf(readings, reading);
    series.memory.push({ t, used: reading.memory.totalBytes - reading.memory.availableBytes });
    const before = readings[index - 1];
    if (!before) return;
    const seconds = reading.uptimeSeconds - before.uptimeSeconds;
    const totalTicks = reading.cpu.totalTicks - before.cpu.totalTicks;
    const busy = rate(before.cpu.busyTicks, reading.cpu.busyTicks, 1);
    series.cpu.push({ t, cpu: busy !== null && totalTicks > 0 ? Math.min(100, (busy / totalTicks) * 100) : null });
    series.disk.push({ t, read: rate(before.disk.readBytes, reading.disk.readBytes, seconds), write: rate(before.disk.writeBytes, reading.disk.writeBytes, seconds) });
    series.network?.push({ t, received: rate(before.network.rxBytes, reading.network.rxBytes, seconds), sent: rate(before.network.txBytes, reading.network.txBytes, seconds) });
  });
  return series;
}

/**
 * One VM's charts, from the same readings. While the VM is not running (no QEMU in a reading)
 * there is no point; a new QEMU (another pid) starts its counters again, so the first reading of
 * it draws no rate.
 */
export function vmPerformance(readings: readonly HostStats[], name: string): PerformanceSeries {
  const latest = readings[readings.length - 1];
  const series: PerformanceSeries = { cpu: [], memory: [], disk: [], network: [], cpuCount: latest?.cpuCount ?? 1, memoryTotalBytes: null };
  let before: { reading: HostStats; vm: VmStats } | undefined;
  for (const reading of readings) {
    const vm = reading.vms.find((candidate) => candidate.name === name);
    if (!vm) {
      before = undefined;
      continue;
    }
    const t = timeOf(readings, reading);
    series.memory.push({ t, rss: vm.rssBytes });
    const previous = before?.vm.pid === vm.pid ? before : undefined;
    before = { reading, vm };
    if (!previous) continue;
    const seconds = reading.uptimeSeconds - previous.reading.uptimeSeconds;
    const ticks = rate(previous.vm.cpuTicks, vm.cpuTicks, seconds);
    series.cpu.push({ t, cpu: ticks === null ? null : Math.min(100, (ticks / reading.clockTicksPerSecond / reading.cpuCount) * 100) });
    series.disk.push({ t, read: rate(previous.vm.disk?.readBytes, vm.disk?.readBytes, seconds), write: rate(previous.vm.disk?.writeBytes, vm.disk?.writeBytes, seconds) });
    series.network?.push({ t, received: rate(previous.vm.network?.rxBytes, vm.network?.rxBytes, seconds), sent: rate(previous.vm.network?.txBytes, vm.network?.txBytes, seconds) });
  }
  const current = latest?.vms.find((candidate) => candidate.name === name);
  if (current && current.network === null) {
    series.network = null;
    series.networkNote = current.networkNote ?? 'The host has no counters for this VM’s network.';
  }
  return series;
}
