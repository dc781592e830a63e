import { describe, expect, it } from 'vitest';
import type { MigrationSample } from '../../../src-main/core/api/types.js';
import type { PlannedDisk } from '../../../src-main/core/migration/run-context.js';
import { Sampler, reportedDisks, sampledDisks, type MigrateInfo } from '../../../src-main/core/migration/sampler.js';
import { migrationSeries } from '../../../src-renderer/src/components/charts/migration-series.js';
import { formatSeconds, secondsTicks } from '../../../src-renderer/src/components/charts/time-axis.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A sample as the engine sends it; only what a test is about differs. */
function sample(t: number, ram: number, disks: MigrationSample['disks'] = [], dirty = 0): MigrationSample {
  return {
    t, phase: 'memory', pass: 1, ram: { transferredBytes: ram, remainingBytes: 0, totalBytes: 0 }, disks,
    throughputBps: 0, dirtyRateBps: dirty, expectedDowntimeMs: null, timeLeftMs: null, throttlePercent: 0, notConverging: null,
  };
}
const disk = (transferredBytes: number, totalBytes: number) => ({ device: 'ferry-disk0', path: '/img/a.qcow2', transferredBytes, remainingBytes: totalBytes - transferredBytes, totalBytes });

/** A disk of 2 GiB virtual size with 648 KiB allocated: the mirror walks all of it, little data crosses. */
const plannedDisk = {
  source: { index: 0, device: 'ferry-disk0', disk: { path: '/img/a.qcow2', format: 'qcow2', cache: 'none' }, allocatedBytes: 648 * KiB, chainAllocatedBytes: 648 * KiB },
  shared: false,
} as unknown as PlannedDisk;
const memory = (transferred: number): MigrateInfo => ({ status: 'active', ram: { transferred, remaining: 0, total: 256 * MiB, 'dirty-sync-count': 1 } });

describe('migrationSeries', () => {
  it('never lets a transferred line go down, even when a disk reads 0 at the end', () => {
    const series = migrationSeries([sample(1000, 10 * MiB, [disk(100 * MiB, 267 * MiB)]), sample(2000, 30 * MiB, [disk(267 * MiB, 267 * MiB)]), sample(3000, 20 * MiB, [disk(0, 0)])]);
    expect(series.memory.map((p) => p.ramTransferred)).toEqual([10 * MiB, 30 * MiB, 30 * MiB]);
    expect(series.disks[0]?.points.map((p) => p.transferred)).toEqual([100 * MiB, 267 * MiB, 267 * MiB]);
    expect(series.disks[0]?.points.at(-1)?.remaining).toBe(0);
  });

  it('keeps the last disk value when its job disappears from later samples', () => {
    const series = migrationSeries([sample(0, 0, [disk(5 * MiB, 10 * MiB)]), sample(1000, 0, [disk(10 * MiB, 10 * MiB)]), sample(2000, 50 * MiB, [])]);
    expect(series.disks[0]?.points).toEqual([
      { t: 0, transferred: 5 * MiB, remaining: 5 * MiB },
      { t: 1, transferred: 10 * MiB, remaining: 0 },
      { t: 2, transferred: 10 * MiB, remaining: 0 },
    ]);
  });

  it('puts each point at its own sample time in seconds, once per instant, in order', () => {
    const series = migrationSeries([sample(2500, 2), sample(500, 1), sample(2500, 3)]);
    expect(series.memory.map((p) => p.t)).toEqual([0.5, 2.5]);
    expect(series.memory.map((p) => p.ramTransferred)).toEqual([1, 3]);
  });

  it('draws throughput as bytes moved between two samples over their time, unsmoothed', () => {
    const series = migrationSeries([sample(0, 0), sample(1000, 100 * MiB), sample(2000, 100 * MiB), sample(4000, 300 * MiB, [disk(20 * MiB, 20 * MiB)])]);
    expect(series.rates.map((p) => p.throughput)).toEqual([null, 100 * MiB, 0, 110 * MiB]);
  });

  it('ends the disk line at the bytes the report counts, though the mirror walked 267 MiB and its job vanished', () => {
    const sampler = new Sampler(0, sampledDisks([plannedDisk], false));
    const samples = [
      sampler.sample(1000, 'copying-disks', null, [{ device: 'ferry-disk0', offset: 100 * MiB, len: 267 * MiB }]),
      sampler.sample(2000, 'copying-disks', null, [{ device: 'ferry-disk0', offset: 267 * MiB, len: 267 * MiB, ready: true }]),
      sampler.sample(3000, 'memory', memory(64 * MiB), [{ device: 'ferry-disk0', offset: 267 * MiB, len: 267 * MiB, ready: true }]),
      // Switch-over: the job is dismissed, the sample has no jobs.
      sampler.sample(4000, 'switchover', memory(128 * MiB), []),
    ];
    expect(samples.map((s) => s.disks[0]?.transferredBytes)).toEqual([Math.round((648 * KiB * 100) / 267), 648 * KiB, 648 * KiB, 648 * KiB]);
    const chartEnd = migrationSeries(samples).disks[0]?.points.at(-1)?.transferred;
    const [reported] = reportedDisks([plannedDisk], samples.at(-1), new Map([['ferry-disk0', 267 * MiB]]), false);
    expect(chartEnd).toBe(648 * KiB);
    expect(reported?.bytes).toBe(chartEnd);
  });

  it('counts a mirror that concluded after its last sample as wholly sent, in chart and report', () => {
    const sampler = new Sampler(0, sampledDisks([plannedDisk], false));
    sampler.sample(1000, 'copying-disks', null, [{ device: 'ferry-disk0', offset: 200 * MiB, len: 267 * MiB }]);
    sampler.mirrorConcluded('ferry-disk0');
    const last = sampler.sample(2000, 'switchover', memory(1 * MiB), []);
    expect(last.disks[0]).toMatchObject({ transferredBytes: 648 * KiB, remainingBytes: 0, totalBytes: 648 * KiB });
    expect(reportedDisks([plannedDisk], last, new Map(), false)[0]?.bytes).toBe(migrationSeries([last]).disks[0]?.points.at(-1)?.transferred);
  });
});

describe('seconds axis', () => {
  it('never repeats a tick, on a short span late in a migration or a long one', () => {
    for (const [from, to] of [[36, 37.4], [0, 2], [0, 37], [0, 300], [120, 420], [0, 5000]] as const) {
      const labels = secondsTicks(from, to).map(formatSeconds);
      expect(new Set(labels).size).toBe(labels.length);
      expect(labels.length).toBeGreaterThan(0);
      expect(labels.length).toBeLessThanOrEqual(6);
    }
    expect(secondsTicks(36, 37.4).map(formatSeconds)).toEqual(['36 s', '36.5 s', '37 s']);
  });
});
