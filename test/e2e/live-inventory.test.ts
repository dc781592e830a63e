import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sshRun } from '../lab/ssh.js';
import { createLabVm, removeLabVm, SHOTS, startGui, treeHost, treeVm, waitForText, type Gui, type LabVm } from './harness.js';
import { join } from 'node:path';

// The GUI shows what the hosts have now: VMs started and stopped outside this window appear within
// 2 s, a migration shows the VM on its destination only (live and after a reload), a second window
// sees the same, and a host that answers slowly shows its list as loading, never as empty.

const tag = Date.now().toString(36).slice(-4);
const execFileAsync = promisify(execFile);
let gui: Gui;
const made: LabVm[] = [];

/** The VM's state word in the tree of `page`, under host `host` ('' when it is not listed there). */
async function treeState(page: Page, host: string, vm: string): Promise<string> {
  const row = treeHost(page, host).locator('.vm-row', { hasText: vm });
  return (await row.count()) === 0 ? '' : ((await row.first().locator('.muted').textContent()) ?? '');
}

/** Milliseconds until `check` holds, polled every 50 ms. */
async function msUntil(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

/** The `ferry` command, as a user would run it in another terminal, on the same FERRY_HOME. */
async function cli(...args: string[]): Promise<void> {
  await execFileAsync(process.execPath, ['dist/main/cli/main.js', ...args], { env: { ...process.env, FERRY_HOME: gui.home }, timeout: 120_000 });
}

async function hostShell(host: Gui['hostA'], command: string): Promise<string> {
  const result = await sshRun(gui.lab, host, command, { allowFail: true });
  if (result.code !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return result.stdout;
}

beforeAll(async () => {
  gui = await startGui();
}, 120_000);

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await gui?.page.screenshot({ path: join(SHOTS, `failed-live-${context.task.name.slice(0, 16).replace(/\W+/g, '-')}.png`) }).catch(() => undefined);
});

afterAll(async () => {
  if (!gui) return;
  for (const vm of made) await removeLabVm(gui.engine, gui.lab, vm);
  await gui.close();
}, 180_000);

describe('live inventory in the GUI', () => {
  it('shows a VM started from the CLI and powered off by its guest within 2 s, and the same in a second window', async () => {
    const { page, hostA } = gui;
    const vm = await createLabVm(gui.engine, gui.lab, hostA, `liv-a-${tag}`, { start: false });
    made.push(vm);
    await waitForText(treeVm(page, vm.name), 'Shut off', 10_000);

    await cli('vm', 'start', hostA.name, vm.name);
    expect(await msUntil('running in the tree', async () => (await treeState(page, hostA.name, vm.name)) === 'Running')).toBeLessThan(2000);

    const second = await gui.newPage({ colorScheme: 'dark' });
    expect(await msUntil('running in a second window', async () => (await treeState(second, hostA.name, vm.name)) === 'Running', 10_000)).toBeLessThan(2000);
    await second.screenshot({ path: join(SHOTS, 'live-second-window-dark.png') });

    // The guest powers itself off (the lab guest does on this serial line, once its init reads it); QEMU exits.
    await msUntil('the guest up', async () => (await gui.engine.call('vms.serial', { host: hostA.name, name: vm.name, tailBytes: 4096 })).text.includes('ferry-heartbeat'), 60_000);
    const serial = await gui.engine.call('consoles.open', { host: hostA.name, name: vm.name, kind: 'serial' });
    await gui.engine.call('consoles.write', { id: serial.id, data: Buffer.from('ferry-poweroff\n').toString('base64') });
    const pid = (await gui.engine.call('vms.info', { host: hostA.name, name: vm.name })).pid;
    await msUntil('QEMU gone', async () => (await hostShell(hostA, `test -d /proc/${pid} && echo alive; true`)) === '', 30_000);
    expect(await msUntil('shut off in the tree', async () => (await treeState(page, hostA.name, vm.name)) === 'Shut off')).toBeLessThan(2000);
    expect(await msUntil('shut off in the second window', async () => (await treeState(second, hostA.name, vm.name)) === 'Shut off')).toBeLessThan(2000);
    await second.context().close();
  }, 300_000);

  it('after a migration shows the VM on the destination only, live and after a reload', async () => {
    const { page, hostA, hostB } = gui;
    const vm = await createLabVm(gui.engine, gui.lab, hostA, `liv-m-${tag}`);
    made.push(vm);
    await gui.engine.call('pools.define', { host: hostB.name, pool: vm.pool, type: 'dir', path: vm.poolPath });
    await waitForText(treeVm(page, vm.name), 'Running', 10_000);

    // Another Ferry (the engine of this test) moves it; this window only watches the hosts.
    const started = await gui.engine.call('migrations.start', { vm: vm.name, from: hostA.name, to: hostB.name, mode: 'block', transport: 'tcp' });
    const done = await new Promise<string>((resolve) => {
      const off = gui.engine.onEvent((event) => {
        if (event.name === 'migration-update' && event.payload.id === started.id && event.payload.report) {
          off();
          resolve(event.payload.report.outcome);
        }
      });
    });
    expect(done).toBe('completed');
    expect(await msUntil('running on B', async () => (await treeState(page, hostB.name, vm.name)) === 'Running')).toBeLessThan(2000);
    expect(await msUntil('gone from A', async () => (await treeState(page, hostA.name, vm.name)) === '')).toBeLessThan(2000);

    await page.reload();
    await waitForText(treeVm(page, vm.name), 'Running', 10_000);
    expect(await treeState(page, hostB.name, vm.name)).toBe('Running');
    expect(await treeState(page, hostA.name, vm.name)).toBe('');
    await gui.shot('live-after-migration');
  }, 300_000);

  it('shows a host that answers slowly as loading, never as having no VMs', async () => {
    const { hostB } = gui;
    const vm = await createLabVm(gui.engine, gui.lab, hostB, `liv-s-${tag}`);
    made.push(vm);
    const pid = (await gui.engine.call('vms.info', { host: hostB.name, name: vm.name })).pid;
    // A QEMU that does not answer its monitor: listing host B takes seconds (the greeting times out).
    await hostShell(hostB, `kill -STOP ${pid}`);
    const slow = await startGui();
    try {
      const tree = treeHost(slow.page, hostB.name);
      await waitForText(tree, 'Loading VMs…', 30_000);
      expect(await tree.getByText('No VMs', { exact: true }).count()).toBe(0);
      await slow.shot('live-loading');
      await waitForText(tree.locator('.vm-row'), vm.name, 30_000);
      expect(await tree.getByText('No VMs', { exact: true }).count()).toBe(0);
      // Its QEMU is alive but does not answer: not known, and certainly not shut off.
      expect(await treeState(slow.page, hostB.name, vm.name)).toBe('Unknown');
      await hostShell(hostB, `kill -CONT ${pid}`);
      await msUntil('running again', async () => (await treeState(slow.page, hostB.name, vm.name)) === 'Running', 30_000);
    } finally {
      await hostShell(hostB, `kill -CONT ${pid}`);
      await slow.close();
    }
  }, 300_000);
});
