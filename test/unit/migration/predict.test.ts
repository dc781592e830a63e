import { describe, expect, it } from 'vitest';
import type { MigrationRecord, MigrationSample } from '../../../src-main/core/api/types.js';
import { historyFacts, predictMigration, type HistoryFacts, type PredictionInputs } from '../../../src-main/core/migration/predict.js';

const MiB = 1024 * 1024;
const noHistory: HistoryFacts = { runs: 0, transferBps: null, ramShare: null, overheadMs: {} };

function inputs(over: Partial<PredictionInputs> = {}): PredictionInputs {
  return { mode: 'live', memoryBytes: 256 * MiB, diskBytes: 0, dirtyRateBps: 10 * MiB, downtimeLimitMs: 100, bandwidthLimitBps: null, history: noHistory, linkBps: 100 * MiB, ...over };
}

describe('predictMigration', () => {
  it('counts pre-copy passes until what is left fits in the downtime limit, and adds Ferry\'s own time', () => {
    const prediction = predictMigration(inputs({ history: { runs: 3, transferBps: 100 * MiB, ramShare: 0.5, overheadMs: { live: 500 } } }));
    // 128 MiB in 1.28 s; 12.8 MiB dirtied meanwhile go in 0.128 s; 1.28 MiB then fit in 100 ms (10 MiB).
    expect(prediction.passes).toBe(2);
    expect(prediction.converges).toBe(true);
    expect(prediction.totalTimeMs).toBe(500 + 1280 + 128);
    expect(prediction.downtimeMs).toBe(13);
    expect(prediction.ramBytes).toBe(128 * MiB);
    expect(prediction.recommendation).toBeNull();
    expect(prediction.basis).toMatch(/last 3 migration/);
    expect(prediction.summary).toMatch(/About 1\.9 s in 2 passes, paused about 13 ms/);
  });

  it('copies the disks first in a block migration', () => {
    const withDisk = predictMigration(inputs({ mode: 'block', diskBytes: 200 * MiB, dirtyRateBps: 0 }));
    const withoutDisk = predictMigration(inputs({ mode: 'block', dirtyRateBps: 0 }));
    expect((withDisk.totalTimeMs ?? 0) - (withoutDisk.totalTimeMs ?? 0)).toBe(2000);
  });

  it('says before the start that a guest dirtying memory about as fast as the link moves it will not converge, and what to turn on', () => {
    const close = predictMigration(inputs({ dirtyRateBps: 95 * MiB }));
    expect(close).toMatchObject({ converges: false, recommendation: 'auto-converge', totalTimeMs: null });
    expect(close.summary).toMatch(/Will not converge: the guest dirties 95\.0 MiB\/s and the link moves 100\.0 MiB\/s\. Turn on auto-converge/);
    expect(predictMigration(inputs({ dirtyRateBps: 300 * MiB })).recommendation).toBe('postcopy');
  });

  it('expects a guest too busy for the link to converge once auto-converge throttles it, taking longer', () => {
    const throttled = predictMigration(inputs({ dirtyRateBps: 95 * MiB, autoConverge: true }));
    expect(throttled.converges).toBe(true);
    expect(throttled.recommendation).toBeNull();
    const calm = predictMigration(inputs({ dirtyRateBps: 5 * MiB, autoConverge: true }));
    expect(throttled.totalTimeMs ?? 0).toBeGreaterThan((calm.totalTimeMs ?? 0) + 1000);
  });

  it('counts on Ferry raising its default downtime limit when memory would not fit under 100 ms, but not on a limit the user gave', () => {
    // A 4 MiB/s cap and a guest dirtying nearly as fast, a small working set (under 1 MiB sent):
    // what is left after a pass never fits in 100 ms (0.4 MiB), but does in 300 ms (1.2 MiB).
    const capped = { bandwidthLimitBps: 4 * MiB, dirtyRateBps: 3.8 * MiB, history: { runs: 1, transferBps: 100 * MiB, ramShare: 0.003, overheadMs: {} } };
    expect(predictMigration(inputs(capped)).converges).toBe(false);
    const relaxed = predictMigration(inputs({ ...capped, relaxableToMs: 300 }));
    expect(relaxed.converges).toBe(true);
    expect(relaxed.summary).toMatch(/once Ferry has raised its downtime limit to 300 ms\.$/);
    expect(predictMigration(inputs({ ...capped, relaxableToMs: null })).converges).toBe(false);
  });

  it('honours a bandwidth limit: a guest that converges on the open link may not under the limit', () => {
    expect(predictMigration(inputs({ dirtyRateBps: 30 * MiB })).converges).toBe(true);
    expect(predictMigration(inputs({ dirtyRateBps: 30 * MiB, bandwidthLimitBps: 20 * MiB })).converges).toBe(false);
  });

  it('leaves convergence open when the dirty rate could not be measured, and cannot predict without a throughput', () => {
    expect(predictMigration(inputs({ dirtyRateBps: null })).converges).toBeNull();
    const blind = predictMigration(inputs({ linkBps: null }));
    expect(blind).toMatchObject({ totalTimeMs: null, converges: null });
    expect(blind.summary).toMatch(/Cannot predict/);
  });

  it('predicts an offline move as its overhead plus the disk copy, all of it downtime', () => {
    const offline = predictMigration(inputs({ mode: 'offline', diskBytes: 100 * MiB, dirtyRateBps: null, history: { ...noHistory, overheadMs: { offline: 2500 } } }));
    expect(offline).toMatchObject({ totalTimeMs: 3500, downtimeMs: 3500, ramBytes: 0, converges: true });
  });
});

function sample(t: number, phase: MigrationSample['phase'], ramTotal: number): MigrationSample {
  return { t, phase, pass: 1, ram: { transferredBytes: 0, remainingBytes: 0, totalBytes: ramTotal }, disks: [], throughputBps: 0, dirtyRateBps: 0, expectedDowntimeMs: null, timeLeftMs: null, throttlePercent: 0, notConverging: null };
}

function record(from: string, to: string, outcome: 'completed' | 'failed', totalTimeMs: number, ramBytes: number, samples: MigrationSample[]): MigrationRecord {
  return {
    id: `m-${Math.random()}`, vm: 'vm', from, to, mode: 'live', phase: 'completed', startedAt: '', committed: true, samples,
    report: { id: 'x', vm: 'vm', from, to, mode: 'live', outcome, startedAt: '', finishedAt: '', totalTimeMs, setupTimeMs: null, downtimeMs: null, maxHeartbeatGapMs: null, ramBytes, disks: [], averageThroughputBps: 0, options: {}, error: null, foundOn: [] },
  } as MigrationRecord;
}

describe('historyFacts', () => {
  it('learns throughput, the share of RAM really sent and Ferry\'s overhead from completed moves between the same hosts only', () => {
    // 4 samples 300 ms apart while memory moved: 900 ms span + one interval = 1.2 s for 120 MiB.
    const moving = [0, 300, 600, 900].map((t) => sample(400 + t, 'memory', 256 * MiB));
    const good = record('a', 'b', 'completed', 2000, 120 * MiB, [sample(100, 'preparing-destination', 0), ...moving]);
    const other = record('b', 'a', 'completed', 9000, 250 * MiB, moving);
    const failed = record('a', 'b', 'failed', 9000, 250 * MiB, moving);
    const facts = historyFacts([good, other, failed], 'a', 'b');
    expect(facts.runs).toBe(1);
    expect(facts.transferBps).toBeCloseTo(100 * MiB, -3);
    expect(facts.ramShare).toBeCloseTo(120 / 256, 5);
    expect(facts.overheadMs.live).toBe(800);
    expect(historyFacts([], 'a', 'b')).toEqual({ runs: 0, transferBps: null, ramShare: null, overheadMs: {} });
  });
});
