import { describe, expect, it } from 'vitest';
import type { HostStats, VmStats } from '../../../src-main/core/api/types.js';
import { hostPerformance, keepWindow, vmPerformance } from '../../../src-renderer/src/components/charts/performance-series.js';

const MiB = 1024 * 1024;

function vm(extra: Partial<VmStats> = {}): VmStats {
  return { name: 'web', pid: 100, cpuTicks: 0, rssBytes: 512 * MiB, disk: { readBytes: 0, writeBytes: 0 }, network: { rxBytes: 0, txBytes: 0, devices: ['fy0123456789a'] }, ...extra };
}

function reading(uptimeSeconds: number, extra: Partial<HostStats> = {}): HostStats {
  return {
    host: 'a', at: uptimeSeconds * 1000, uptimeSeconds, clockTicksPerSecond: 100, cpuCount: 2,
    cpu: { busyTicks: 0, totalTicks: 0 }, memory: { totalBytes: 4096 * MiB, availableBytes: 1024 * MiB },
    disk: { readBytes: 0, writeBytes: 0 }, network: { rxBytes: 0, txBytes: 0 }, vms: [], ...extra,
  };
}

describe('performance series', () => {
  it('turns a VM’s counters into rates between readings, at seconds since the first reading', () => {
    const readings = [
      reading(1000, { vms: [vm()] }),
      // 2 s later: 100 ticks = 1 CPU-second of 4 host CPU-seconds, 4 MiB read, 2 MiB written, 1 MiB in and out.
      reading(1002, { vms: [vm({ cpuTicks: 100, rssBytes: 600 * MiB, disk: { readBytes: 4 * MiB, writeBytes: 2 * MiB }, network: { rxBytes: 1 * MiB, txBytes: 2 * MiB, devices: ['fy0123456789a'] } })] }),
    ];
    const series = vmPerformance(readings, 'web');
    expect(series.cpu).toEqual([{ t: 2, cpu: 25 }]);
    expect(series.memory).toEqual([{ t: 0, rss: 512 * MiB }, { t: 2, rss: 600 * MiB }]);
    expect(series.disk).toEqual([{ t: 2, read: 2 * MiB, write: 1 * MiB }]);
    expect(series.network).toEqual([{ t: 2, received: 0.5 * MiB, sent: 1 * MiB }]);
  });

  it('draws no network chart for a VM with user-mode NICs, and says why', () => {
    const note = 'Its NICs are user-mode (QEMU slirp): no host counters.';
    const series = vmPerformance([reading(1, { vms: [vm({ network: null, networkNote: note })] }), reading(3, { vms: [vm({ network: null, networkNote: note })] })], 'web');
    expect(series.network).toBeNull();
    expect(series.networkNote).toBe(note);
  });

  it('starts again after the VM restarted (another pid) instead of drawing a negative or huge rate', () => {
    const series = vmPerformance([reading(1, { vms: [vm({ cpuTicks: 5000 })] }), reading(3, { vms: [] }), reading(5, { vms: [vm({ pid: 200, cpuTicks: 10 })] }), reading(7, { vms: [vm({ pid: 200, cpuTicks: 110 })] })], 'web');
    expect(series.cpu).toEqual([{ t: 6, cpu: 25 }]);
  });

  it('gives host CPU as busy share of all ticks and memory as total minus available', () => {
    const series = hostPerformance([reading(10, { cpu: { busyTicks: 100, totalTicks: 1000 } }), reading(12, { cpu: { busyTicks: 200, totalTicks: 1400 }, network: { rxBytes: 2 * MiB, txBytes: 4 * MiB } })]);
    expect(series.cpu).toEqual([{ t: 2, cpu: 25 }]);
    expect(series.memory.at(-1)).toEqual({ t: 2, used: 3072 * MiB });
    expect(series.network).toEqual([{ t: 2, received: 1 * MiB, sent: 2 * MiB }]);
  });

  it('keeps five minutes of readings, and starts over when the host rebooted', () => {
    let kept: HostStats[] = [];
    for (let second = 0; second <= 400; second += 2) kept = keepWindow(kept, reading(1000 + second));
    expect(kept[0]?.uptimeSeconds).toBe(1100);
    expect(kept.length).toBe(151);
    expect(keepWindow(kept, reading(5))).toEqual([reading(5)]);
  });
});
