import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryEngine } from '../../../src-main/core/engine.js';
import { addLabHosts, createLabVm, removeLabVm, type LabVm } from '../../e2e/harness.js';
import { labStatus, labUp } from '../../lab/lab.js';
import type { LabHost, LabStatus } from '../../lab/types.js';
import { sleep, waitFor } from './helpers.js';

// hosts.stats against a real lab host with a real QEMU guest that keeps dirtying memory, so its CPU
// ticks and resident set must move between two readings.
const tag = Date.now().toString(36).slice(-5);
let lab: LabStatus;
let host: LabHost;
let home: string;
let engine: FerryEngine;
let vm: LabVm | undefined;

beforeAll(async () => {
  lab = labStatus() ?? (await labUp());
  host = lab.hosts[0] as LabHost;
  home = mkdtempSync(join(tmpdir(), 'ferry-perf-'));
  engine = new FerryEngine({ home, userKnownHosts: null });
  await addLabHosts(engine, lab);
  vm = await createLabVm(engine, lab, host, `perf-stats-${tag}`, { pool: `perf-stats-${tag}`, dirtyMiB: 16 });
}, 180_000);

afterAll(async () => {
  if (vm) await removeLabVm(engine, lab, vm);
  await engine.close();
  rmSync(home, { recursive: true, force: true });
}, 120_000);

describe('hosts.stats on a lab host', () => {
  it('reads the host and the running guest’s QEMU from /proc, and the counters move', async () => {
    const name = vm?.name ?? '';
    const info = await engine.call('vms.info', { host: host.name, name });
    const first = await waitFor('the guest in the host stats', async () => {
      const stats = await engine.call('hosts.stats', { host: host.name });
      return stats.vms.some((entry) => entry.name === name) ? stats : undefined;
    });
    await sleep(3000);
    const second = await engine.call('hosts.stats', { host: host.name });
    const before = first.vms.find((entry) => entry.name === name);
    const after = second.vms.find((entry) => entry.name === name);

    expect(second.host).toBe(host.name);
    expect(second.uptimeSeconds).toBeGreaterThan(first.uptimeSeconds + 2);
    expect(second.clockTicksPerSecond).toBeGreaterThan(0);
    expect(second.cpuCount).toBeGreaterThanOrEqual(1);
    expect(second.cpu.totalTicks).toBeGreaterThan(first.cpu.totalTicks);
    expect(second.memory.totalBytes).toBeGreaterThan(second.memory.availableBytes);

    expect(after?.pid).toBe(info.pid);
    // A TCG guest dirtying memory keeps QEMU busy: its ticks must have grown in 3 s.
    expect(after?.cpuTicks).toBeGreaterThan(before?.cpuTicks ?? Number.POSITIVE_INFINITY);
    // 128 MiB guest: QEMU's resident set holds at least the memory the guest touched.
    expect(after?.rssBytes).toBeGreaterThan(16 * 1024 * 1024);
    expect(after?.disk).not.toBeNull();
    expect(after?.disk?.readBytes).toBeGreaterThanOrEqual(before?.disk?.readBytes ?? 0);
    // The lab guest's NIC is user-mode: no host counters, and the reading says so.
    expect(after?.network).toBeNull();
    expect(after?.networkNote).toMatch(/user-mode/);
  }, 90_000);

  it('leaves a stopped guest out', async () => {
    const name = vm?.name ?? '';
    await engine.call('vms.destroy', { host: host.name, name });
    const stats = await engine.call('hosts.stats', { host: host.name });
    expect(stats.vms.map((entry) => entry.name)).not.toContain(name);
  }, 60_000);
});
