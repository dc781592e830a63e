import type { MigrationSample } from '../../../../src-main/core/api/types';
import type { ChartPoint } from './time-axis';

export interface DiskSeries {
  device: string;
  points: ChartPoint[];
}

export interface MigrationSeries {
  memory: ChartPoint[];
  rates: ChartPoint[];
  disks: DiskSeries[];
}

/**
 * What the migration charts draw, from the samples alone, for the live view and the History
 * alike. Every point is a real sample at its own time (seconds since the start). Transferred bytes
 * only ever go up: a disk that is missing from a sample (its job gone) or reads lower than before
 * keeps the most it had counted, so the last point says what the report says. Throughput is the
 * bytes moved between two samples over the time between them, nothing averaged.
 */
export function migrationSeries(samples: readonly MigrationSample[]): MigrationSeries {
  const ordered = distinctTimes(samples);
  const devices = [...new Set(ordered.flatMap((sample) => sample.disks.map((disk) => disk.device)))];
  const memory: ChartPoint[] = [];
  const rates: ChartPoint[] = [];
  const disks = devices.map((device): DiskSeries => ({ device, points: [] }));
  let ramSent = 0;
  const diskSent = new Map<string, { sent: number; total: number }>();
  let previous: { t: number; moved: number } | undefined;
  for (const sample of ordered) {
    const t = sample.t / 1000;
    ramSent = Math.max(ramSent, sample.ram.transferredBytes);
    memory.push({ t, ramTransferred: ramSent, ramRemaining: sample.ram.remainingBytes });
    disks.forEach((series) => {
      const disk = sample.disks.find((entry) => entry.device === series.device);
      const before = diskSent.get(series.device);
      if (!disk && !before) return; // not started yet: no point, rather than a made-up zero
      const sent = Math.max(before?.sent ?? 0, disk?.transferredBytes ?? 0);
      const total = Math.max(before?.total ?? 0, disk?.totalBytes ?? 0, sent);
      diskSent.set(series.device, { sent, total });
      series.points.push({ t, transferred: sent, remaining: total - sent });
    });
    const moved = ramSent + [...diskSent.values()].reduce((sum, disk) => sum + disk.sent, 0);
    rates.push({ t, throughput: previous && t > previous.t ? (moved - previous.moved) / (t - previous.t) : null, dirtyRate: sample.dirtyRateBps });
    previous = { t, moved };
  }
  return { memory, rates, disks };
}

/** Samples in time order, one per instant (the later one wins): two points at one time draw a vertical jump. */
function distinctTimes(samples: readonly MigrationSample[]): MigrationSample[] {
  const byTime = new Map<number, MigrationSample>();
  for (const sample of samples) byTime.set(sample.t, sample);
  return [...byTime.values()].sort((a, b) => a.t - b.t);
}
