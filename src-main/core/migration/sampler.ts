import type { DiskProgress, MigrationPhase, MigrationReport, MigrationSample } from '../api/types.js';
import type { PlannedDisk } from './run-context.js';

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

/** A disk as the sampler counts it. */
export interface SampledDisk {
  device: string;
  path: string;
  /**
   * The most that can really cross for it: the allocated data the migration copies. A mirror's
   * progress also walks unallocated areas, which cross as cheap zero writes, so without this cap a
   * nearly empty disk would read as its whole virtual size sent.
   */
  countableBytes?: number;
}

/** The disks of a migration as the sampler counts them: at most the allocated data that is copied. */
export function sampledDisks(disks: readonly PlannedDisk[], incremental: boolean | undefined): SampledDisk[] {
  return disks.map((disk) => ({ device: disk.source.device, path: disk.source.disk.path, countableBytes: incremental ? disk.source.allocatedBytes : disk.source.chainAllocatedBytes }));
}

/**
 * The report's disks: what the last sample counted (the samples never lose a disk whose job has
 * gone), so the report says what the chart's last point says. `progressed` is the fallback for a
 * run that ended before its first sample.
 */
export function reportedDisks(disks: readonly PlannedDisk[], last: MigrationSample | undefined, progressed: ReadonlyMap<string, number>, incremental: boolean | undefined): MigrationReport['disks'] {
  return disks
    .filter((disk) => !disk.shared)
    .map((disk) => {
      const fromSample = last?.disks.find((entry) => entry.device === disk.source.device)?.transferredBytes;
      const allocated = incremental ? disk.source.allocatedBytes : disk.source.chainAllocatedBytes;
      const bytes = fromSample ?? Math.min(progressed.get(disk.source.device) ?? 0, allocated);
      return { device: disk.source.device, path: disk.source.disk.path, bytes };
    });
}

/**
 * Bytes of a disk counted as sent, the same for the charts and the report: a mirror's progress is
 * counted as that share of the disk's allocated data; a copy that counts real bytes only up to it.
 */
export function countedDiskBytes(done: number, total: number, countableBytes: number | undefined, proportional: boolean): number {
  if (countableBytes === undefined) return done;
  if (!proportional) return Math.min(done, countableBytes);
  return total > 0 ? Math.round(countableBytes * Math.min(1, done / total)) : 0;
}

/**
 * Turns raw QEMU counters into chart-ready samples. Throughput comes from byte deltas between
 * samples because QEMU's own mbps is averaged per pass and reads low on fast links. Transferred
 * bytes never go down: a mirror job that vanishes (dismissed at switch-over) keeps what it had
 * counted, so the last sample holds what the report says was sent.
 */
export class Sampler {
  private readonly startedAt: number;
  private last: { at: number; bytes: number } | undefined;
  private smoothedThroughput = 0;
  /** The least memory left seen during each pass: it must keep shrinking from pass to pass. */
  private readonly passMinimum = new Map<number, number>();
  private readonly diskBase = new Map<string, SampledDisk>();
  /** The last progress of each disk, kept when its job is gone. */
  private readonly diskProgress = new Map<string, DiskProgress>();
  private ramTransferred = 0;

  constructor(startedAt: number, disks: SampledDisk[]) {
    this.startedAt = startedAt;
    for (const disk of disks) this.diskBase.set(disk.device, disk);
  }

  /** A mirror concluded (its job reached the end): all of its data is across. */
  mirrorConcluded(device: string): void {
    const base = this.diskBase.get(device);
    const previous = this.diskProgress.get(device);
    if (!base || !previous) return;
    this.diskProgress.set(device, { ...previous, transferredBytes: previous.totalBytes, remainingBytes: 0 });
  }

  sample(now: number, phase: MigrationPhase, info: MigrateInfo | null, jobs: BlockJobInfo[], diskCopied?: Map<string, TransferTotals>): MigrationSample {
    const ram = info?.ram ?? {};
    const pageSize = ram['page-size'] ?? 4096;
    const disks: DiskProgress[] = [...this.diskBase.values()].map((base) => this.diskSample(base, jobs, diskCopied));
    this.ramTransferred = Math.max(this.ramTransferred, ram.transferred ?? 0);
    const movedBytes = this.ramTransferred + disks.reduce((sum, disk) => sum + disk.transferredBytes, 0);
    if (this.last && now > this.last.at) {
      const instant = ((movedBytes - this.last.bytes) * 1000) / (now - this.last.at);
      // An exponential average keeps the time-left estimate steady without hiding a real change for long.
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
      ram: { transferredBytes: this.ramTransferred, remainingBytes: ram.remaining ?? 0, totalBytes: ram.total ?? 0 },
      disks,
      throughputBps: throughput,
      dirtyRateBps,
      expectedDowntimeMs: info?.['expected-downtime'] ?? null,
      timeLeftMs: throughput > 0 && notConverging === null ? Math.round((remaining / throughput) * 1000) : null,
      throttlePercent: info?.['cpu-throttle-percentage'] ?? 0,
      notConverging,
    };
  }

  private diskSample(base: SampledDisk, jobs: BlockJobInfo[], diskCopied: Map<string, TransferTotals> | undefined): DiskProgress {
    const { device, path, countableBytes } = base;
    const job = jobs.find((candidate) => candidate.device === device);
    const copied = diskCopied?.get(device);
    const previous = this.diskProgress.get(device);
    let next: DiskProgress;
    if (job) {
      const total = countableBytes ?? job.len;
      next = { device, path, transferredBytes: countedDiskBytes(job.offset, job.len, countableBytes, true), remainingBytes: 0, totalBytes: total };
    } else if (copied) {
      const total = countableBytes === undefined ? copied.total : Math.min(copied.total, countableBytes);
      next = { device, path, transferredBytes: countedDiskBytes(copied.transferred, copied.total, countableBytes, false), remainingBytes: 0, totalBytes: total };
    } else {
      // No job (not started yet, or dismissed at switch-over): what was counted stays counted.
      return previous ?? { device, path, transferredBytes: 0, remainingBytes: 0, totalBytes: 0 };
    }
    next.transferredBytes = Math.max(next.transferredBytes, previous?.transferredBytes ?? 0);
    next.totalBytes = Math.max(next.totalBytes, next.transferredBytes);
    next.remainingBytes = next.totalBytes - next.transferredBytes;
    this.diskProgress.set(device, next);
    return next;
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
