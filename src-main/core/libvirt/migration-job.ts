import type { DiskProgress, MigrationPhase, MigrationSample } from '../api/types.js';

/** libvirt's job statistics (`virsh domjobinfo --rawstats`), the fields a migration chart needs. */
export interface LibvirtJobStats {
  /** 0 none, 1 bounded, 2 unbounded (running), 3 completed, 4 failed, 5 cancelled. */
  jobType: number;
  elapsedMs: number;
  memory: { processed: number; remaining: number; total: number };
  disk: { processed: number; remaining: number; total: number };
  /** Pages per second. */
  dirtyPagesPerSecond: number;
  pageSize: number;
  iteration: number;
  /** Expected downtime while running; the real one once completed. */
  downtimeMs: number | null;
  setupTimeMs: number | null;
  throttlePercent: number;
  postcopyRequests: number;
}

export const JOB_RUNNING = 2;

/** Reads `virsh domjobinfo --rawstats` output: "Job type: N" then "key: value" lines. */
export function parseJobStats(text: string): LibvirtJobStats {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_ ]+?):\s*(.*?)\s*$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) values.set(match[1].toLowerCase().replace(/ /g, '_'), match[2]);
  }
  const number = (key: string): number => {
    const value = Number(values.get(key));
    return Number.isFinite(value) ? value : 0;
  };
  const optional = (key: string): number | null => (values.has(key) && Number.isFinite(Number(values.get(key))) ? Number(values.get(key)) : null);
  return {
    jobType: number('job_type'),
    elapsedMs: number('time_elapsed'),
    memory: { processed: number('memory_processed'), remaining: number('memory_remaining'), total: number('memory_total') },
    disk: { processed: number('disk_processed'), remaining: number('disk_remaining'), total: number('disk_total') },
    dirtyPagesPerSecond: number('memory_dirty_rate'),
    pageSize: number('memory_page_size') || 4096,
    iteration: number('memory_iteration'),
    downtimeMs: optional('downtime'),
    setupTimeMs: optional('setup_time'),
    throttlePercent: number('auto_converge_throttle'),
    postcopyRequests: number('memory_postcopy_requests'),
  };
}

/**
 * A job statistic as a Ferry MigrationSample, so charts, history and export treat a libvirt
 * migration like Ferry's own. libvirt sums all disks into one counter, so the disks share it,
 * each with its share of the total (what libvirt does not tell apart, the chart cannot either).
 */
export function sampleFromJob(stats: LibvirtJobStats, previous: MigrationSample | undefined, t: number, disks: Array<{ device: string; path: string }>): MigrationSample {
  // A job without disk counters after one with them (the destination's completed job, or the
  // memory phase's end) has not un-copied the disks: what was copied stays, as for Ferry's runs.
  const diskProgress = stats.disk.total > 0 ? shareDisks(stats.disk, disks) : previous?.disks ?? [];
  const diskBytes = diskProgress.reduce((sum, disk) => sum + disk.transferredBytes, 0);
  const moved = stats.memory.processed + diskBytes;
  const previousMoved = previous ? previous.ram.transferredBytes + previous.disks.reduce((sum, disk) => sum + disk.transferredBytes, 0) : 0;
  const seconds = previous ? (t - previous.t) / 1000 : 0;
  const throughputBps = seconds > 0 ? Math.max(0, (moved - previousMoved) / seconds) : 0;
  const phase: MigrationPhase = stats.memory.processed === 0 && stats.disk.total > 0 && stats.disk.remaining > 0 ? 'copying-disks' : 'memory';
  return {
    t,
    phase,
    pass: stats.iteration,
    ram: { transferredBytes: stats.memory.processed, remainingBytes: stats.memory.remaining, totalBytes: stats.memory.total },
    disks: diskProgress,
    throughputBps,
    dirtyRateBps: stats.dirtyPagesPerSecond * stats.pageSize,
    expectedDowntimeMs: stats.downtimeMs,
    timeLeftMs: throughputBps > 0 ? Math.round(((stats.memory.remaining + stats.disk.remaining) / throughputBps) * 1000) : null,
    throttlePercent: stats.throttlePercent,
    notConverging: null,
  };
}

function shareDisks(counter: LibvirtJobStats['disk'], disks: Array<{ device: string; path: string }>): DiskProgress[] {
  if (counter.total === 0 || disks.length === 0) return [];
  const share = (value: number, index: number) => Math.floor(value / disks.length) + (index === 0 ? value % disks.length : 0);
  return disks.map((disk, index) => ({
    device: disk.device,
    path: disk.path,
    transferredBytes: share(counter.processed, index),
    remainingBytes: share(counter.remaining, index),
    totalBytes: share(counter.total, index),
  }));
}
