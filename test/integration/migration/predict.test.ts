import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { LOCAL_DIR, ensurePools, removeGuest, reportOf, startGuest, uniqueName } from './guest.js';

// The prediction pre-flight makes before a move, from real QEMU (calc-dirty-rate) and a real
// transfer between the lab hosts, then from what the first move taught.
let le: LabEngine;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  le = await labEngine();
  await ensurePools(le);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await le.engine.close();
});

describe('prediction before a migration', () => {
  it('measures the guest and the link before the first move, and learns from that move for the next', async () => {
    const first = uniqueName('predict');
    const { diskPath } = await startGuest(le, { host: 'a', name: first, directory: LOCAL_DIR, dirtyMiB: 8, prefillMiB: 16 });
    cleanups.push(() => removeGuest(le, first, [diskPath]));
    const before = await le.engine.call('migrations.check', { vm: first, from: 'a', to: 'b', mode: 'block', transport: 'tcp' });
    const predicted = before.prediction;
    expect(predicted, 'a prediction in the pre-flight report').toBeTruthy();
    if (!predicted) return;
    // The guest rewrites memory all the time: QEMU's sampling sees it.
    expect(predicted.dirtyRateBps ?? 0).toBeGreaterThan(0);
    expect(predicted.throughputBps ?? 0).toBeGreaterThan(0);
    expect(predicted.basis).toMatch(/test transfer between the hosts/);
    expect(predicted.diskBytes).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(predicted.converges).toBe(true);
    expect(predicted.totalTimeMs ?? 0).toBeGreaterThan(0);
    expect(predicted.summary).toMatch(/^About .* in \d+ pass/);

    const started = await le.engine.call('migrations.start', { vm: first, from: 'a', to: 'b', mode: 'block', transport: 'tcp' });
    const report = reportOf(await le.engine.migrations.settled(started.id));
    expect(report.outcome).toBe('completed');
    console.info(`predicted ${predicted.totalTimeMs} ms (${predicted.basis}), took ${report.totalTimeMs} ms`);

    const second = uniqueName('predict');
    const { diskPath: secondDisk } = await startGuest(le, { host: 'a', name: second, directory: LOCAL_DIR, dirtyMiB: 8 });
    cleanups.push(() => removeGuest(le, second, [secondDisk]));
    const learned = (await le.engine.call('migrations.check', { vm: second, from: 'a', to: 'b', mode: 'block', transport: 'tcp' })).prediction;
    expect(learned?.basis).toMatch(/last 1 migration\(s\) between these hosts/);
    // What QEMU really sent of the first guest's RAM, not all of it.
    expect(learned?.ramBytes ?? 0).toBeLessThan(256 * 1024 * 1024);
    expect(learned?.totalTimeMs ?? 0).toBeGreaterThan(0);
  });
});
