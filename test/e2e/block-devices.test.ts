/**
 * Block devices in the GUI (Chromium against `npm run web`): a disk pool defined on lab host b
 * lists a loop device made on this machine (the lab hosts share /dev), and a stopped lab VM with
 * an image-file disk migrates offline onto that device, chosen per disk in the Migrate dialog.
 * A second device carrying ext4 shows the overwrite checkbox naming it. Screenshots in light and dark.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshRun } from '../lab/ssh.js';
import { createLabVm, removeLabVm, startGui, treeHost, treeVm, waitForText, type Gui, type LabVm } from './harness.js';

const POOL = 'dsk-e2e';
const VM = 'dsk-e2e-vm';
let gui: Gui;
let vm: LabVm | undefined;
let work: string;
const loops: string[] = [];
let target: string;
let formatted: string;

function attachLoop(name: string, sizeMiB: number): string {
  const file = join(work, `${name}.img`);
  execFileSync('truncate', ['-s', `${sizeMiB}M`, file]);
  const device = execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8' }).trim();
  loops.push(device);
  return device;
}

async function onHost(host: Gui['hostA'], command: string): Promise<string> {
  const result = await sshRun(gui.lab, host, command, { allowFail: true });
  if (result.code !== 0) throw new Error(`${command} failed on ${host.name}: ${result.stderr}`);
  return result.stdout;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dsk-e2e-'));
  target = attachLoop('dsk-target', 64);
  formatted = attachLoop('dsk-ext4', 64);
  execFileSync('mkfs.ext4', ['-q', formatted]);
  gui = await startGui();
  vm = await createLabVm(gui.engine, gui.lab, gui.hostA, VM, { start: false });
  // A pattern in the source image, to find again on the destination device.
  await onHost(gui.hostA, `qemu-io -f qcow2 -c 'write -P 0x5a 1M 4M' ${vm.poolPath}/${vm.volume}`);
}, 300_000);

afterAll(async () => {
  if (gui) {
    if (vm) await removeLabVm(gui.engine, gui.lab, vm);
    await gui.engine.call('pools.delete', { host: gui.hostB.name, pool: POOL }).catch(() => undefined);
    await gui.close();
  }
  for (const device of loops) execFileSync('losetup', ['-d', device]);
  if (work) rmSync(work, { recursive: true, force: true });
}, 300_000);

describe('block devices in the GUI', () => {
  it('defines a disk pool on host b and lists the loop device with its size and use', async () => {
    const { page } = gui;
    const hostB = gui.hostB.name;
    await waitForText(treeHost(page, hostB).locator('.host-row'), 'Connected');
    await treeHost(page, hostB).locator('.host-row').click();
    await page.getByRole('tab', { name: 'Storage' }).click();
    await page.getByRole('button', { name: 'Add Pool' }).click();
    const dialog = page.getByRole('dialog', { name: `Add Pool on ${hostB}` });
    await dialog.getByLabel('Name', { exact: true }).fill(POOL);
    await dialog.getByLabel('Type', { exact: true }).selectOption('disk');
    expect(await dialog.getByLabel('Target Path', { exact: true }).inputValue()).toBe('/dev');
    await dialog.getByRole('button', { name: 'Create Pool' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 60_000 });
    await page.getByRole('listbox', { name: 'Storage pools' }).getByRole('option', { name: new RegExp(`^${POOL},`) }).click();
    const table = page.getByRole('table', { name: 'Block devices' });
    const row = table.locator(`tr[data-device="${target}"]`);
    await row.waitFor({ timeout: 60_000 });
    expect(await row.textContent()).toContain('64.0 MiB');
    expect(await row.locator('td[data-use]').textContent()).toBe('free');
    expect(await table.locator(`tr[data-device="${formatted}"] td[data-use]`).textContent()).toBe('filesystem ext4');
    await row.scrollIntoViewIfNeeded();
    await gui.shot('block-devices-01-disk-pool');
    await page.emulateMedia({ colorScheme: 'dark' });
    await gui.shot('block-devices-02-disk-pool-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  }, 180_000);

  it('picks a destination device per disk in the Migrate dialog and moves the VM offline onto it', async () => {
    const { page } = gui;
    const source = `${vm?.poolPath}/${vm?.volume}`;
    await waitForText(treeHost(page, gui.hostA.name).locator('.host-row'), 'Connected');
    await treeVm(page, VM).click();
    await page.getByRole('toolbar', { name: 'Main toolbar' }).getByRole('button', { name: 'Migrate' }).click();
    const dialog = page.getByRole('dialog', { name: `Migrate ${VM}` });
    await dialog.getByLabel('Destination', { exact: true }).selectOption(gui.hostB.name);
    const offline = dialog.getByRole('radio', { name: /Offline/ });
    await offline.waitFor({ timeout: 60_000 });
    await offline.check();
    const disk = dialog.getByLabel(`Disk ${source} (64.0 MiB)`, { exact: true });
    await disk.waitFor({ timeout: 60_000 });
    await dialog.locator(`option[value="${target}"]`).waitFor({ state: 'attached', timeout: 60_000 });

    // The device with a filesystem: the check refuses it and the box names the device and the filesystem.
    await disk.selectOption(formatted);
    await dialog.getByRole('button', { name: 'Check', exact: true }).click();
    const results = dialog.getByRole('region', { name: 'Check results' });
    await results.waitFor({ timeout: 120_000 });
    await waitForText(results, `${formatted} on ${gui.hostB.name} carries a filesystem signature (ext4)`);
    const overwrite = dialog.getByRole('checkbox', { name: `Overwrite ${formatted} on ${gui.hostB.name}: it carries a filesystem signature (ext4), which will be destroyed` });
    expect(await overwrite.isChecked()).toBe(false);
    await overwrite.scrollIntoViewIfNeeded();
    await gui.shot('block-devices-03-migrate-overwrite');
    await page.emulateMedia({ colorScheme: 'dark' });
    await gui.shot('block-devices-04-migrate-overwrite-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // The free device: ready, and the migration copies the disk onto it.
    await disk.selectOption(target);
    await dialog.getByRole('button', { name: 'Check', exact: true }).click();
    await waitForText(results, 'Ready to migrate', 120_000);
    await dialog.getByRole('button', { name: 'Start migration' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 60_000 });
    const report = page.getByRole('region', { name: 'Migration report' });
    await report.waitFor({ timeout: 300_000 });
    await waitForText(report, 'Completed', 300_000);
    await gui.shot('block-devices-05-migrated');

    const details = await gui.engine.call('vms.info', { host: gui.hostB.name, name: VM });
    expect(details.definition?.disks.map((entry) => [entry.path, entry.format])).toEqual([[target, 'raw']]);
    // The pattern written into the source image is on the device, read on host b.
    const pattern = await onHost(gui.hostB, `qemu-io -r -f raw -c 'read -P 0x5a 1M 4M' ${target}`);
    expect(pattern).toMatch(/read 4194304\/4194304 bytes/);
  }, 600_000);
});
