/**
 * libvirt hosts in the GUI (Chromium against `npm run web`): both lab hosts, already saved as
 * Ferry-managed hosts by the harness, are added again through Add Connection as libvirt hosts
 * (la, lb). A libvirt domain defined on lab host a shows in la's tree as Running with its domain
 * XML facts; a pool libvirt knows on a is listed in Storage and gets a new volume. The domain moves
 * la → lb live with block copy through the Migrate dialog, which offers only
 * libvirt hosts and says libvirt stays in charge; the memory and disk charts gain points, the
 * report says Completed, and the domain then runs on lb and is gone from la. Screenshots in light
 * and dark.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { shellCommand } from '../../src-main/core/ssh/shell.js';
import { ensureLibvirtd, labDomainXml, virsh, virshWithXml } from '../lab/libvirt.js';
import { sshRun } from '../lab/ssh.js';
import type { LabHost } from '../lab/types.js';
import { SHOTS, startGui, treeHost, waitForText, type Gui } from './harness.js';

const [LA, LB] = ['la', 'lb'];
const IMAGE_DIR = '/var/lib/libvirt/images';
const DOMAIN = `lv-gui-${Date.now().toString(36)}`;
const DISK = `${IMAGE_DIR}/${DOMAIN}.qcow2`;
const SERIAL = `/var/lib/libvirt/${DOMAIN}.serial.log`;
const POOL = 'lv-gui-pool';
const POOL_DIR = `${IMAGE_DIR}/${POOL}`;
const VOLUME = 'lv-gui-vol.qcow2';
const MEMORY_CHART = 'Memory: transferred and remaining';
const DISK_CHART = 'Disk vda: transferred and remaining';

let gui: Gui;
let dark: Page | undefined;

async function onHost(host: LabHost, command: string): Promise<string> {
  const result = await sshRun(gui.lab, host, command, { allowFail: true });
  if (result.code !== 0) throw new Error(`${command} failed on ${host.name}: ${result.stderr}`);
  return result.stdout;
}

async function domainState(host: LabHost): Promise<string> {
  const result = await virsh(host, ['domstate', DOMAIN], true);
  return result.code === 0 ? result.stdout.trim() : 'absent';
}

const domainRow = (page: Page, saved: string) => treeHost(page, saved).locator('.vm-row', { hasText: DOMAIN });
const chartPoints = (page: Page, title: string) => page.getByRole('figure', { name: title }).getAttribute('data-points').then(Number);

/** Adds a lab host as a libvirt host through the Add Connection dialog (its key may already be trusted: the harness saved it as a Ferry host). */
async function addLibvirtHost(saved: string, host: LabHost, shoot: boolean): Promise<void> {
  const { page } = gui;
  await page.getByRole('button', { name: 'Add Connection' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add Connection' });
  await dialog.getByLabel('Hypervisor', { exact: true }).selectOption('libvirt');
  await dialog.getByLabel('Username', { exact: true }).fill(host.user);
  await dialog.getByLabel('Hostname', { exact: true }).fill(host.address);
  await dialog.getByLabel('Port', { exact: true }).fill(String(host.port));
  await dialog.getByRole('radio', { name: 'Key file' }).check();
  await dialog.getByLabel('Key file path', { exact: true }).fill(host.identityFile);
  await dialog.getByLabel('Name', { exact: true }).fill(saved);
  expect(await dialog.getByLabel('Connection URI', { exact: true }).textContent()).toBe(`qemu+ssh://${host.user}@${host.address}/system`);
  await dialog.getByText('libvirt URI').waitFor();
  if (shoot) await gui.shot('libvirt-01-add-connection');
  await dialog.getByRole('button', { name: 'Connect' }).click();
  const keyDialog = page.getByRole('dialog', { name: 'Unknown host key' });
  await Promise.race([keyDialog.waitFor({ timeout: 60_000 }), dialog.waitFor({ state: 'detached', timeout: 60_000 })]);
  if (await keyDialog.isVisible()) {
    expect((await keyDialog.getByLabel('Host key fingerprint', { exact: true }).textContent())?.trim()).toBe(host.hostKeyFingerprint);
    await keyDialog.getByRole('button', { name: 'Trust host' }).click();
  }
  await dialog.waitFor({ state: 'detached', timeout: 60_000 });
  await waitForText(treeHost(page, saved).locator('.host-row'), 'Connected');
}

beforeAll(async () => {
  gui = await startGui();
  await ensureLibvirtd(gui.lab, gui.hostA);
  await ensureLibvirtd(gui.lab, gui.hostB);
  await onHost(gui.hostA, `mkdir -p ${IMAGE_DIR} && ${shellCommand(['qemu-img', 'create', '-q', '-f', 'qcow2', DISK, '64M'])}`);
  // Data past the guest's records, so the block copy has real bytes to move and the disk chart a slope.
  await onHost(gui.hostA, `${shellCommand(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x5a 8M 32M', DISK])} >/dev/null`);
  const { guest } = gui.lab;
  await virshWithXml(gui.hostA, 'define', labDomainXml({ name: DOMAIN, memoryMiB: 128, accel: guest.accel, kernel: guest.kernel, initrd: guest.initrd, append: 'console=ttyS0 quiet ferry.dirty_mib=4', serialLog: SERIAL, disk: DISK }));
  await virsh(gui.hostA, ['start', DOMAIN]);
  // A pool libvirt knows, as on a host set up with virt-manager; Ferry only lists it and makes volumes in it.
  await virsh(gui.hostA, ['pool-define-as', POOL, 'dir', '--target', POOL_DIR]);
  await virsh(gui.hostA, ['pool-build', POOL]);
  await virsh(gui.hostA, ['pool-start', POOL]);
}, 300_000);

afterEach(async (context) => {
  if (context.task.result?.state === 'fail' && gui?.page) await gui.page.screenshot({ path: `${SHOTS}/failed-libvirt-${context.task.name.slice(0, 24).replace(/\W+/g, '-')}.png` }).catch(() => undefined);
});

afterAll(async () => {
  if (!gui) return;
  await dark?.context().close().catch(() => undefined);
  await virsh(gui.hostA, ['vol-delete', '--pool', POOL, VOLUME], true).catch(() => undefined);
  await virsh(gui.hostA, ['pool-destroy', POOL], true).catch(() => undefined);
  await virsh(gui.hostA, ['pool-undefine', POOL], true).catch(() => undefined);
  await onHost(gui.hostA, shellCommand(['rm', '-rf', POOL_DIR])).catch(() => undefined);
  for (const host of [gui.hostA, gui.hostB]) {
    await virsh(host, ['destroy', DOMAIN], true).catch(() => undefined);
    await virsh(host, ['undefine', DOMAIN], true).catch(() => undefined);
    await onHost(host, shellCommand(['rm', '-f', DISK, SERIAL, `/var/log/libvirt/qemu/${DOMAIN}.log`])).catch(() => undefined);
  }
  // The saved connections la and lb go with the GUI's own FERRY_HOME.
  await gui.close();
}, 300_000);

describe('libvirt hosts in the GUI', () => {
  it('adds both lab hosts as libvirt hosts; the tree says each host’s kind and shows the domain Running with its XML facts', async () => {
    const { page } = gui;
    await waitForText(treeHost(page, gui.hostA.name).locator('.host-row'), 'Connected');
    await addLibvirtHost(LA, gui.hostA, true);
    await addLibvirtHost(LB, gui.hostB, false);
    expect(await treeHost(page, LA).locator('.host-kind').first().textContent()).toBe('libvirt');
    expect(await treeHost(page, gui.hostA.name).locator('.host-kind').first().textContent()).toBe('Ferry');
    await waitForText(domainRow(page, LA), 'Running', 120_000);
    expect(await domainRow(page, LB).count()).toBe(0);

    await treeHost(page, LA).locator('.host-row').click();
    await page.getByText(/libvirt host: libvirtd on the host runs its domains/).waitFor();

    await domainRow(page, LA).click();
    const details = page.getByRole('region', { name: `VM ${DOMAIN}` });
    await waitForText(details, 'Managed by');
    const uuid = (await virsh(gui.hostA, ['domuuid', DOMAIN])).stdout.trim();
    await details.getByText(uuid).waitFor();
    for (const text of ['qemu (TCG emulation)', 'qemu64', '/var/lib/libvirt/images', 'Yes: libvirt keeps its definition']) await waitForText(details, text);
    expect(await details.getByRole('button', { name: /Edit hardware/ }).count()).toBe(0);
    expect(await details.getByRole('button', { name: 'Pause' }).isEnabled()).toBe(true);
    await gui.shot('libvirt-02-domain-light');
  }, 400_000);

  it('lists la’s libvirt pool in Storage and makes a volume in it, without offering pool define/start/stop/delete', async () => {
    const { page } = gui;
    await treeHost(page, LA).locator('.host-row').click();
    await page.getByRole('tab', { name: 'Storage' }).click();
    const option = page.getByRole('listbox', { name: 'Storage pools' }).getByRole('option', { name: new RegExp(`^${POOL},`) });
    await option.click({ timeout: 60_000 });
    await waitForText(option, 'libvirt dir');
    await page.getByText(/libvirt manages these pools/).waitFor();
    for (const name of ['Add Pool', 'Delete Pool', 'Stop Pool', 'Start Pool']) expect(await page.getByRole('button', { name, exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'New Volume' }).click();
    const dialog = page.getByRole('dialog', { name: `New Volume in ${POOL}` });
    await dialog.getByLabel('Name', { exact: true }).fill(VOLUME);
    await dialog.getByLabel('Format', { exact: true }).selectOption('qcow2');
    await dialog.getByLabel('Capacity', { exact: true }).fill('16M');
    await dialog.getByRole('button', { name: 'Create Volume' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 60_000 });
    await page.getByRole('table', { name: 'Volumes' }).getByRole('cell', { name: VOLUME, exact: true }).waitFor({ timeout: 30_000 });
    // libvirt itself knows the new volume (it was made with vol-create-as, not behind its back).
    expect((await virsh(gui.hostA, ['vol-list', POOL])).stdout).toContain(VOLUME);
    expect(await page.getByRole('button', { name: `Delete volume ${VOLUME}` }).count()).toBe(0);
    await gui.shot('libvirt-03-storage-light');
  }, 300_000);

  it('migrates the domain la → lb with block copy through the Migrate dialog; charts fed, Completed, running on lb only', async () => {
    const { page } = gui;
    await domainRow(page, LA).click();
    await page.getByRole('toolbar', { name: 'Main toolbar' }).getByRole('button', { name: 'Migrate' }).click();
    const dialog = page.getByRole('dialog', { name: `Migrate ${DOMAIN}` });
    const destination = dialog.getByLabel('Destination', { exact: true });
    // Only libvirt hosts are choosable; the Ferry-managed ones are listed with why.
    expect(await destination.locator(`option[value="${gui.hostB.name}"]`).isDisabled()).toBe(true);
    expect(await destination.locator(`option[value="${gui.hostB.name}"]`).textContent()).toContain('a libvirt domain moves only to a libvirt host');
    expect(await destination.locator(`option[value="${LB}"]`).isDisabled()).toBe(false);
    await destination.selectOption(LB);
    await waitForText(dialog.getByLabel('Migrated by libvirt'), `the libvirtd on ${LA} stays in charge of the move`);
    const block = dialog.getByRole('radio', { name: /Live with block copy/ });
    await block.waitFor({ timeout: 60_000 });
    await block.check();
    // Limited so the move lasts long enough to watch the charts grow; the guest dirties 4 MiB/s under
    // TCG, so the last round needs more than the default 100 ms at this rate.
    await dialog.getByLabel('Bandwidth (MiB/s)', { exact: true }).fill('32');
    await dialog.getByLabel('Max downtime (ms)', { exact: true }).fill('1000');
    await dialog.getByRole('button', { name: 'Check', exact: true }).click();
    const results = dialog.getByRole('region', { name: 'Check results' });
    await results.waitFor({ timeout: 120_000 });
    await waitForText(results, 'Ready to migrate');
    await waitForText(results, 'migrated by libvirt');
    await gui.shot('libvirt-04-migrate-dialog-light');
    await dialog.getByRole('button', { name: 'Start migration' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 60_000 });

    await page.getByRole('figure', { name: MEMORY_CHART }).waitFor({ timeout: 120_000 });
    const first = await chartPoints(page, MEMORY_CHART);
    await page.waitForFunction(
      ([title, n]) => Number(document.querySelector(`figure[aria-label="${title}"]`)?.getAttribute('data-points') ?? 0) > Number(n),
      [MEMORY_CHART, first] as const,
      { timeout: 120_000 },
    );
    await gui.shot('libvirt-05-migration-live-light');
    const report = page.getByRole('region', { name: 'Migration report' });
    await report.waitFor({ timeout: 300_000 });
    await waitForText(report, 'Completed');
    expect(await chartPoints(page, MEMORY_CHART)).toBeGreaterThan(first);
    expect(await chartPoints(page, DISK_CHART)).toBeGreaterThan(1);
    await gui.shot('libvirt-06-migration-report-light');

    await waitForText(domainRow(page, LB), 'Running', 60_000);
    await domainRow(page, LA).waitFor({ state: 'detached', timeout: 60_000 });
    expect(await domainState(gui.hostB)).toBe('running');
    expect(await domainState(gui.hostA)).toBe('absent');

    await page.getByRole('toolbar', { name: 'Main toolbar' }).getByRole('button', { name: 'History' }).click();
    const table = page.getByRole('table', { name: 'Past migrations' });
    await table.getByRole('row', { name: new RegExp(DOMAIN) }).first().click({ timeout: 30_000 });
    await page.getByRole('figure', { name: MEMORY_CHART }).waitFor({ timeout: 30_000 });
    expect(await chartPoints(page, MEMORY_CHART)).toBeGreaterThan(first);
  }, 600_000);

  it('looks right in dark mode: the tree with both kinds, the domain on lb and the stored migration', async () => {
    dark = await gui.newPage({ colorScheme: 'dark' });
    await waitForText(domainRow(dark, LB), 'Running', 60_000);
    await domainRow(dark, LB).click();
    await waitForText(dark.getByRole('region', { name: `VM ${DOMAIN}` }), 'Managed by');
    await dark.screenshot({ path: `${SHOTS}/libvirt-07-domain-dark.png` });
    await dark.getByRole('toolbar', { name: 'Main toolbar' }).getByRole('button', { name: 'History' }).click();
    await dark.getByRole('table', { name: 'Past migrations' }).getByRole('row', { name: new RegExp(DOMAIN) }).first().click({ timeout: 30_000 });
    await dark.getByRole('figure', { name: DISK_CHART }).waitFor({ timeout: 30_000 });
    expect(await chartPoints(dark, DISK_CHART)).toBeGreaterThan(1);
    await dark.screenshot({ path: `${SHOTS}/libvirt-08-history-dark.png` });
  }, 300_000);
});
