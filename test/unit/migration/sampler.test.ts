import { describe, expect, it } from 'vitest';
import { Sampler, type MigrateInfo } from '../../../src-main/core/migration/sampler.js';

const MiB = 1024 * 1024;
const info = (pass: number, transferred: number, remaining: number, dirtyPages = 0): MigrateInfo => ({
  status: 'active',
  ram: { transferred, remaining, total: 256 * MiB, 'dirty-pages-rate': dirtyPages, 'page-size': 4096, 'dirty-sync-count': pass },
  'expected-downtime': 120,
  'cpu-throttle-percentage': 0,
});

describe('Sampler', () => {
  it('computes throughput from byte deltas, not from QEMU mbps', () => {
    const sampler = new Sampler(0, []);
    sampler.sample(1000, 'memory', info(1, 0, 200 * MiB), []);
    const second = sampler.sample(2000, 'memory', info(1, 50 * MiB, 150 * MiB), []);
    expect(second.throughputBps).toBeCloseTo(50 * MiB, -3);
    expect(second.t).toBe(2000);
    expect(second.timeLeftMs).toBe(3000);
    expect(second.ram).toEqual({ transferredBytes: 50 * MiB, remainingBytes: 150 * MiB, totalBytes: 256 * MiB });
  });

  it('reports each disk from its mirror job, including what is left', () => {
    const sampler = new Sampler(0, [{ device: 'ferry-disk0', path: '/img/a.qcow2' }]);
    const sample = sampler.sample(500, 'copying-disks', null, [{ device: 'ferry-disk0', offset: 30 * MiB, len: 100 * MiB }]);
    expect(sample.disks).toEqual([{ device: 'ferry-disk0', path: '/img/a.qcow2', transferredBytes: 30 * MiB, remainingBytes: 70 * MiB, totalBytes: 100 * MiB }]);
  });

  it('keeps a disk whose mirror job vanished at what it had, and never lets transferred bytes fall', () => {
    const sampler = new Sampler(0, [{ device: 'ferry-disk0', path: '/img/a.qcow2' }]);
    sampler.sample(500, 'copying-disks', null, [{ device: 'ferry-disk0', offset: 80 * MiB, len: 100 * MiB }]);
    const vanished = sampler.sample(1000, 'switchover', info(2, 40 * MiB, 0), []);
    const lower = sampler.sample(1500, 'switchover', info(2, 30 * MiB, 0), []);
    expect(vanished.disks[0]).toMatchObject({ transferredBytes: 80 * MiB, totalBytes: 100 * MiB });
    expect(lower.ram.transferredBytes).toBe(40 * MiB);
    expect(lower.disks[0]?.transferredBytes).toBe(80 * MiB);
  });

  it('flags a guest that dirties memory as fast as the link moves it', () => {
    const sampler = new Sampler(0, []);
    let transferred = 0;
    let verdict: string | null = null;
    let atPass: number | null = null;
    for (let tick = 1; tick <= 40; tick += 1) {
      transferred += 10 * MiB;
      // 10 MiB/s moved, 2560 pages/s × 4 KiB = 10 MiB/s dirtied.
      const pass = Math.ceil(tick / 4);
      verdict = sampler.sample(tick * 1000, 'memory', info(pass, transferred, 100 * MiB, 2560), []).notConverging;
      if (verdict !== null) atPass ??= pass;
    }
    expect(verdict).toMatch(/dirties memory/);
    expect(atPass).toBe(3);
  });

  it('flags memory that stops shrinking from pass to pass, and not a converging one', () => {
    const stuck = new Sampler(0, []);
    const shrinking = new Sampler(0, []);
    let stuckVerdict: string | null = null;
    let stuckAtPass: number | null = null;
    let shrinkingVerdict: string | null = 'unset';
    for (let pass = 1; pass <= 8; pass += 1) {
      stuckVerdict = stuck.sample(pass * 1000, 'memory', info(pass, pass * 100 * MiB, 80 * MiB), []).notConverging;
      if (stuckVerdict !== null) stuckAtPass ??= pass;
      shrinkingVerdict = shrinking.sample(pass * 1000, 'memory', info(pass, pass * 100 * MiB, (200 * MiB) / 2 ** pass), []).notConverging;
    }
    expect(stuckVerdict).toMatch(/has not shrunk/);
    // Told once the second pass is over (the third has begun), not passes later.
    expect(stuckAtPass).toBe(3);
    expect(shrinkingVerdict).toBeNull();
  });

  it('never flags outside the memory phase', () => {
    const sampler = new Sampler(0, []);
    for (let pass = 1; pass <= 8; pass += 1) expect(sampler.sample(pass * 1000, 'copying-disks', info(pass, 0, 80 * MiB, 100_000), []).notConverging).toBeNull();
  });
});
