/**
 * The live inventory against the real lab: a window (one engine, subscribed) sees VMs that another
 * Ferry process (a second engine, as the CLI would be) starts, pauses and stops on a host, and
 * storage it creates, without asking.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostInventory, VmSummary } from '../../../src-main/core/api/types.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { waitFor } from './helpers.js';

const VM = 'inv-vm';
const POOL = 'inv-pool';
const POOL_PATH = '/var/lib/ferry/inv-pool';
let window: LabEngine;
let other: LabEngine;
const seen = new Map<string, HostInventory | null>();

const vmOnA = (): VmSummary | undefined => seen.get('a')?.vms?.find((vm) => vm.name === VM);

/** Resolves with how long (ms) it took until the window's inventory satisfied `check`. */
async function timeUntil(what: string, check: () => boolean, timeoutMs = 20_000): Promise<number> {
  const started = Date.now();
  await waitFor(what, async () => (check() ? true : undefined), timeoutMs, 50);
  return Date.now() - started;
}

async function cleanup(): Promise<void> {
  await other.engine.call('vms.destroy', { host: 'a', name: VM }).catch(() => undefined);
  await other.engine.call('vms.undefine', { host: 'a', name: VM }).catch(() => undefined);
  for (const v of await other.engine.call('volumes.list', { host: 'a', pool: POOL }).catch(() => [])) {
    await other.engine.call('volumes.delete', { host: 'a', pool: POOL, name: v.name }).catch(() => undefined);
  }
  await other.engine.call('pools.delete', { host: 'a', pool: POOL }).catch(() => undefined);
}

beforeAll(async () => {
  window = await labEngine();
  other = await labEngine();
  await cleanup();
  window.engine.onEvent((event) => {
    if (event.name === 'inventory') seen.set(event.payload.host, event.payload.inventory);
  });
});

afterAll(async () => {
  if (other) await cleanup();
  await window?.engine.close();
  await other?.engine.close();
});

describe('live inventory', () => {
  it('starts with lists that are loading (null), not empty, then fills them', async () => {
    const first = await window.engine.call('inventory.subscribe', {});
    const a = first.find((host) => host.host === 'a');
    expect(a).toBeDefined();
    expect(a?.vms).toBeNull();
    expect(a?.pools).toBeNull();
    await timeUntil('host a listed', () => Array.isArray(seen.get('a')?.vms) && Array.isArray(seen.get('a')?.pools));
    expect(seen.get('a')?.refreshedAt).toMatch(/^\d{4}-/);
  });

  it('shows storage and a VM another Ferry creates and starts within 2 s, and its pause and stop', async () => {
    await other.engine.call('pools.define', { host: 'a', pool: POOL, type: 'dir', path: POOL_PATH });
    await timeUntil('the new pool', () => seen.get('a')?.pools?.some((pool) => pool.name === POOL) === true);
    const volume = await other.engine.call('volumes.create', { host: 'a', pool: POOL, name: `${VM}.qcow2`, capacity: '16M' });
    await timeUntil('the new volume', () => seen.get('a')?.volumes[POOL]?.some((v) => v.name === `${VM}.qcow2`) === true, 30_000);

    const { guest } = window.lab;
    await other.engine.call('vms.define', {
      host: 'a', name: VM, memoryMiB: 96, vcpus: 1, accel: 'tcg', disks: [{ path: volume.path }],
      kernel: guest.kernel, initrd: guest.initrd, append: 'console=ttyS0 quiet',
    });
    expect(await timeUntil('the defined VM', () => vmOnA()?.state === 'shutoff')).toBeLessThan(2000);
    await other.engine.call('vms.start', { host: 'a', name: VM });
    expect(await timeUntil('the VM running', () => vmOnA()?.state === 'running')).toBeLessThan(2000);

    // Paused elsewhere: the run state is asked of QEMU every few seconds (REFRESH_INTERVALS.statusMs).
    await other.engine.call('vms.pause', { host: 'a', name: VM });
    expect(await timeUntil('the VM paused', () => vmOnA()?.state === 'paused')).toBeLessThan(7000);
    await other.engine.call('vms.resume', { host: 'a', name: VM });
    await timeUntil('the VM running again', () => vmOnA()?.state === 'running');

    // QEMU gone without Ferry's help (as when the guest powers off): shut off within 2 s.
    const pid = vmOnA()?.pid;
    expect(pid).toBeGreaterThan(0);
    await window.sh('a', `kill ${pid}`);
    expect(await timeUntil('the VM shut off', () => vmOnA()?.state === 'shutoff')).toBeLessThan(2000);
    expect(vmOnA()?.pid).toBeUndefined();

    await other.engine.call('vms.undefine', { host: 'a', name: VM });
    expect(await timeUntil('the VM gone', () => vmOnA() === undefined)).toBeLessThan(2000);
  }, 180_000);

  it('answers refresh at once with what the host has, and drops a host that is disconnected', async () => {
    const now = await window.engine.call('inventory.refresh', { host: 'b' });
    expect(now?.host).toBe('b');
    expect(Array.isArray(now?.vms)).toBe(true);
    await window.engine.connections.disconnect('b');
    await timeUntil('host b dropped', () => seen.get('b') === null);
  });
});
