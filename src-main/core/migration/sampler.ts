import type { DiskProgress, MigrationPhase, MigrationSample } from '../api/types.js';

/** The fields of query-migrate (source side) that progress is computed from. */
export interface MigrateInfo {
  status?: string;
  ram?: {
    transferred?: number;
    remaining?: number;
    total?: number;
    'dirty-pages-rate'?: number;
    'page-size'?: number;
    'dirty-sync-count'?: number;
  };
  'expected-downtime'?: number;
  'cpu-throttle-percentage'?: number;
  'total-time'?: number;
  'setup-time'?: number;
  downtime?: number;
  'error-desc'?: string;
}

export interface BlockJobInfo {
  device: string;
  offset: number;
  len: number;
  ready?: boolean;
}

/**
 * The verdict comes once the second pass is done (QEMU's dirty-sync-count reaches 3): by then the
 * link's speed and the guest's dirty rate are both known, and what pass 2 left behind can be
 * set against what pass 1 did. Waiting longer only costs the user time.
 */
const FIRST_VERDICT_PASS = 3;

/**
 * Turns raw QEMU counters into chart-ready samples. Throughput comes from byte deltas between
 * samples because QEMU's own mbps is averaged per pass and reads low on fast links.
 */
export class Sampler {
  private readonly startedAt: number;
  private last: { at: number; bytes: number } | undefined;
  private smoothedThroughput = 0;
  /** The least memory left seen during each pass: it must keep shrinking from pass to pass. */
  private readonly passMinimum = new Map<number, number>();
  private diskBase = new Map<string, { path: string }>();

  constructor(startedAt: number, disks: Array<{ device: string; path: string }>) {
    this.startedAt = startedAt;
    for (const disk of disks) this.diskBase.set(disk.device, { path: disk.path });
  }

  sample(now: number, phase: MigrationPhase, info: MigrateInfo | null, jobs: BlockJobInfo[], diskCopied?: Map<string, TransferTotals>): MigrationSample {
    const ram = info?.ram ?? {};
    const pageSize = ram['page-size'] ?? 4096;
    const disks: DiskProgress[] = [...this.diskBase.entries()].map(([device, base]) => {
      const job = jobs.find((candidate) => candidate.device === device);
      const copied = diskCopied?.get(device);
      if (job) return { device, path: base.path, transferredBytes: job.offset, remainingBytes: Math.max(0, job.len - job.offset), totalBytes: job.len };
      if (copied) return { device, path: base.path, transferredBytes: copied.transferred, remainingBytes: Math.max(0, copied.total - copied.transferred), totalBytes: copied.total };
      return { device, path: base.path, transferredBytes: 0, remainingBytes: 0, totalBytes: 0 };
    });
    const movedBytes = (ram.transferred ?? 0) + disks.reduce((sum, disk) => sum + disk.transferredBytes, 0);
    if (this.last && now > this.last.at) {
      const instant = ((movedBytes - this.last.bytes) * 1000) / (now - this.last.at);
      // An exponential average keeps the chart readable without hiding a real change for long.
      this.smoothedThroughput = this.smoothedThroughput === 0 ? instant : this.smoothedThroughput * 0.6 + instant * 0.4;
    }
    this.last = { at: now, bytes: movedBytes };
    const dirtyRateBps = (ram['dirty-pages-rate'] ?? 0) * pageSize;
    const remaining = (ram.remaining ?? 0) + disks.reduce((sum, disk) => sum + disk.remainingBytes, 0);
    const throughput = Math.max(0, this.smoothedThroughput);
    const notConverging = phase === 'memory' ? this.convergenceVerdict(ram['dirty-sync-count'] ?? 0, ram.remaining ?? 0, dirtyRateBps, throughput) : null;
    return {
      t: now - this.startedAt,
      phase,
      pass: ram['dirty-sync-count'] ?? 0,
      ram: { transferredBytes: ram.transferred ?? 0, remainingBytes: ram.remaining ?? 0, totalBytes: ram.total ?? 0 },
      disks,
      throughputBps: throughput,
      dirtyRateBps,
      expectedDowntimeMs: info?.['expected-downtime'] ?? null,
      timeLeftMs: throughput > 0 && notConverging === null ? Math.round((remaining / throughput) * 1000) : null,
      throttlePercent: info?.['cpu-throttle-percentage'] ?? 0,
      notConverging,
    };
  }

  private convergenceVerdict(pass: number, remaining: number, dirtyRate: number, throughput: number): string | null {
    this.passMinimum.set(pass, Math.min(this.passMinimum.get(pass) ?? Number.POSITIVE_INFINITY, remaining));
    if (pass < FIRST_VERDICT_PASS) return null;
    if (throughput > 0 && dirtyRate >= throughput * 0.9) {
      return `The guest dirties memory (${mib(dirtyRate)}/s) about as fast as the link moves it (${mib(throughput)}/s). Raise the downtime limit, enable auto-converge to slow the guest down, or switch to postcopy.`;
    }
    const previous = this.passMinimum.get(pass - 1);
    const older = this.passMinimum.get(pass - 2);
    if (previous === undefined || older === undefined || previous < older * 0.9) return null;
    return `Memory left to copy has not shrunk over the last passes (${mib(previous)} left). Raise the downtime limit or the bandwidth, enable auto-converge, or switch to postcopy.`;
  }
}

export interface TransferTotals {
  transferred: number;
  total: number;
}

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
