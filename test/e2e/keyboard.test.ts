import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabVm, removeLabVm, startGui, treeHost, treeVm, waitForText, type Gui, type LabVm } from './harness.js';

// The migrate journey with the keyboard alone (page.keyboard only, no clicks), Force Off's
// confirmation, and every screen it passes through shot in dark and light mode.
// Run with: npm run build && npx vitest run --project lab test/e2e/keyboard.test.ts

const tag = `a11y-${Date.now().toString(36).slice(-5)}`;
let gui: Gui;
let page: Page;
let vm: LabVm;
const storagePool = `${tag}-st`;

/** Describes the focused element: its role or tag, its accessible-ish name, and whether it is inside a dialog. */
async function focused(): Promise<{ tag: string; role: string; name: string; inDialog: string | null; inTree: string | null; inToolbar: boolean; checked: boolean; value: string }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return { tag: '', role: '', name: '', inDialog: null, inTree: null, inToolbar: false, checked: false, value: '' };
    const labelled = el.getAttribute('aria-labelledby');
    const name = el.getAttribute('aria-label') ?? (labelled ? document.getElementById(labelled)?.textContent : null) ?? el.textContent ?? '';
    return {
      tag: el.tagName.toLowerCase(),
      role: el.getAttribute('role') ?? '',
      name: name.trim(),
      inDialog: el.closest('[role="dialog"]')?.getAttribute('aria-labelledby') ? (document.getElementById(el.closest('[role="dialog"]')?.getAttribute('aria-labelledby') ?? '')?.textContent ?? null) : null,
      inTree: el.closest('[role="tree"]')?.getAttribute('aria-label') ?? null,
      inToolbar: el.closest('[role="toolbar"]') !== null,
      checked: el instanceof HTMLInputElement ? el.checked : false,
      value: el instanceof HTMLInputElement || el instanceof HTMLSelectElement ? el.value : '',
    };
  });
}

/** Presses `key` until the focused element satisfies `wanted`; fails after `limit` presses. */
async function pressUntil(key: string, wanted: (f: Awaited<ReturnType<typeof focused>>) => boolean, what: string, limit = 40): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (wanted(await focused())) return;
    await page.keyboard.press(key);
  }
  if (!wanted(await focused())) throw new Error(`${key} ×${limit} never reached ${what}; focus is on ${JSON.stringify(await focused())}`);
}

/** The same screen in dark (the page's scheme) and light, for looking at both. */
async function shotBoth(name: string): Promise<void> {
  await gui.shot(`a11y-${name}-dark`);
  await page.emulateMedia({ colorScheme: 'light' });
  await gui.shot(`a11y-${name}-light`);
  await page.emulateMedia({ colorScheme: 'dark' });
}

const isButton = (name: string) => (f: Awaited<ReturnType<typeof focused>>) => f.tag === 'button' && f.name === name;

beforeAll(async () => {
  gui = await startGui({ colorScheme: 'dark' });
  page = gui.page;
  vm = await createLabVm(gui.engine, gui.lab, gui.hostA, `${tag}-kb`);
  // Block copy writes the disk to the same path on the destination, so the pool exists there too.
  await gui.engine.call('pools.define', { host: gui.hostB.name, pool: vm.pool, type: 'dir', path: vm.poolPath });
  await waitForText(treeVm(page, vm.name), 'Running', 120_000);
  await waitForText(treeHost(page, gui.hostB.name).locator('.host-row'), 'Connected');
}, 300_000);

afterAll(async () => {
  if (gui) {
    if (vm) await removeLabVm(gui.engine, gui.lab, vm);
    const host = gui.hostA.name;
    for (const v of await gui.engine.call('volumes.list', { host, pool: storagePool }).catch(() => [])) await gui.engine.call('volumes.delete', { host, pool: storagePool, name: v.name }).catch(() => undefined);
    await gui.engine.call('pools.delete', { host, pool: storagePool }).catch(() => undefined);
    await gui.close();
  }
}, 300_000);

describe('keyboard and confirmation', () => {
  it('the page follows the system colour scheme', async () => {
    const background = async () => page.evaluate(() => getComputedStyle(document.body).getPropertyValue('--bg').trim() || getComputedStyle(document.documentElement).getPropertyValue('--bg').trim());
    expect(await background()).toBe('#16191d');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await background()).toBe('#f4f5f7');
    await page.emulateMedia({ colorScheme: 'dark' });
  });

  it('migrates a VM with the keyboard alone: tree, Migrate, destination, Check, Start, report', async () => {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    // Into the connection tree, then down to the VM, and select it.
    await pressUntil('Tab', (f) => f.inTree === 'Connections list', 'the connection tree');
    await pressUntil('ArrowDown', (f) => f.role === 'treeitem' && f.name.startsWith(vm.name), `the tree item of ${vm.name}`);
    await page.keyboard.press('Enter');
    await page.getByRole('region', { name: `VM ${vm.name}` }).waitFor();
    await shotBoth('vm-details');

    // To the VM's own Migrate button, and open the dialog.
    await pressUntil('Tab', isButton('⇄Migrate'), 'the Migrate button');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: `Migrate ${vm.name}` });
    await dialog.waitFor();
    // Focus starts on the first field, the destination, and Tab never leaves the dialog.
    let f = await focused();
    expect(f.tag).toBe('select');
    expect(f.inDialog).toBe(`Migrate ${vm.name}`);
    // Back from the first field wraps to the last enabled button (Start waits for the modes, so it may still be Cancel).
    await page.keyboard.press('Shift+Tab');
    f = await focused();
    expect(f.inDialog).toBe(`Migrate ${vm.name}`);
    expect(['Cancel', 'Start migration']).toContain(f.name);
    await page.keyboard.press('Tab');
    expect((await focused()).tag).toBe('select');
    // Typing a name picks that destination.
    await page.keyboard.type(gui.hostB.name);
    expect((await focused()).value).toBe(gui.hostB.name);

    // The mode radios: Tab into the group, arrows choose; block copy, as the lab has no shared storage.
    await dialog.getByRole('radio', { name: /Live with block copy/ }).waitFor({ timeout: 60_000 });
    await pressUntil('Tab', (g) => g.tag === 'input' && ['live', 'block', 'offline'].includes(g.value), 'a mode radio');
    await pressUntil('ArrowDown', (g) => g.value === 'block' && g.checked, 'the block-copy mode');
    expect(await dialog.getByRole('radio', { name: /Live with block copy/ }).isChecked()).toBe(true);

    // Check, then Start: both reached with Tab and pressed with Enter.
    await pressUntil('Tab', isButton('Check'), 'the Check button');
    await page.keyboard.press('Enter');
    await dialog.getByRole('region', { name: 'Check results' }).waitFor({ timeout: 120_000 });
    await waitForText(dialog.getByRole('status', { name: 'Check status' }), /^(Ready|Not ready) to migrate/);
    await shotBoth('migrate-dialog-checked');
    const checkResults = await dialog.getByRole('region', { name: 'Check results' }).textContent();
    expect(await dialog.getByRole('status', { name: 'Check status' }).textContent(), checkResults ?? '').toMatch(/^Ready to migrate/);
    expect((await focused()).inDialog).toBe(`Migrate ${vm.name}`);
    await pressUntil('Tab', isButton('Start migration'), 'the Start migration button');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached', timeout: 60_000 });

    // The live view announces phases politely and the outcome at the end.
    const announcements = page.getByRole('status', { name: 'Migration progress' });
    expect(await announcements.getAttribute('aria-live')).toBe('polite');
    await shotBoth('migration-live');
    const report = page.getByRole('region', { name: 'Migration report' });
    await report.waitFor({ timeout: 300_000 });
    await waitForText(report, 'Completed');
    await waitForText(announcements, `Migration of ${vm.name} to ${gui.hostB.name} completed`);
    await shotBoth('migration-report');
    await waitForText(treeHost(page, gui.hostB.name), vm.name, 60_000);
    f = await focused();
    expect(f.tag).not.toBe('');
  }, 600_000);

  it('History rows open with the keyboard', async () => {
    // Back up from the migration view, through the sidebar, to the toolbar: one tab stop, arrows inside.
    await pressUntil('Shift+Tab', (f) => f.inToolbar, 'the toolbar');
    await pressUntil('ArrowRight', (f) => f.tag === 'button' && f.name.endsWith('History'), 'the History tool');
    await page.keyboard.press('Enter');
    const table = page.getByRole('table', { name: 'Past migrations' });
    await waitForText(table, vm.name);
    await pressUntil('Tab', (f) => f.tag === 'tr' && f.name.includes(vm.name), `the history row of ${vm.name}`);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Export JSON' }).waitFor();
    await page.getByRole('figure', { name: 'Memory: transferred and remaining' }).waitFor({ timeout: 30_000 });
    await shotBoth('history-record');
  }, 120_000);

  it('Force Off asks first: Cancel leaves the VM running, confirming stops it', async () => {
    await treeVm(page, vm.name).click();
    const header = page.getByRole('group', { name: 'VM actions' });
    await header.getByRole('button', { name: 'Force Off' }).click();
    const confirm = page.getByRole('dialog', { name: `Force off ${vm.name}?` });
    await confirm.waitFor();
    // Focus starts on Cancel, so Enter alone never destroys.
    expect(await focused()).toMatchObject({ tag: 'button', name: 'Cancel' });
    expect(await confirm.getByRole('button', { name: 'Force Off' }).getAttribute('class')).toBe('danger');
    await shotBoth('force-off-confirm');
    await page.keyboard.press('Enter');
    await confirm.waitFor({ state: 'detached' });
    // Focus is back on the button that opened it.
    expect(await focused()).toMatchObject({ tag: 'button', name: '■Force Off' });
    await page.waitForTimeout(1000);
    expect((await gui.engine.call('vms.info', { host: gui.hostB.name, name: vm.name })).state).toBe('running');

    await header.getByRole('button', { name: 'Force Off' }).click();
    await confirm.getByRole('button', { name: 'Force Off' }).click();
    await confirm.waitFor({ state: 'detached', timeout: 60_000 });
    expect((await gui.engine.call('vms.info', { host: gui.hostB.name, name: vm.name })).state).toBe('shutoff');
  }, 120_000);

  it('deleting a volume asks first (Escape keeps it, Delete volume removes it); host and dialogs in both schemes', async () => {
    const host = gui.hostA.name;
    await gui.engine.call('pools.define', { host, pool: storagePool, type: 'dir', path: `/var/lib/ferry/images/${storagePool}` });
    await gui.engine.call('volumes.create', { host, pool: storagePool, name: 'scratch.qcow2', capacity: '16M' });
    const volumeNames = async () => (await gui.engine.call('volumes.list', { host, pool: storagePool })).map((v) => v.name);
    await treeHost(page, host).locator('.host-row').click();
    await page.getByRole('region', { name: `Host ${host}` }).waitFor();
    await shotBoth('host-overview');
    await page.getByRole('tab', { name: 'Storage' }).click();
    await page.getByText(storagePool, { exact: true }).first().click();
    const volumes = page.getByRole('table', { name: 'Volumes' });
    await waitForText(volumes, 'scratch.qcow2');
    await page.getByRole('button', { name: 'Delete volume scratch.qcow2' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete volume scratch.qcow2?' });
    await confirm.waitFor();
    await shotBoth('storage-delete-volume');
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'detached' });
    expect(await volumeNames()).toContain('scratch.qcow2');
    await page.getByRole('button', { name: 'Delete volume scratch.qcow2' }).click();
    await confirm.getByRole('button', { name: 'Delete volume' }).click();
    await confirm.waitFor({ state: 'detached', timeout: 60_000 });
    expect(await volumeNames()).not.toContain('scratch.qcow2');
    await page.getByRole('button', { name: 'Add Connection' }).click();
    await page.getByRole('dialog', { name: 'Add Connection' }).waitFor();
    await shotBoth('add-connection');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Add Connection' }).waitFor({ state: 'detached' });
  }, 120_000);

  it('the other screens in both schemes: New VM, Evacuate, host performance, VM console and performance', async () => {
    await treeHost(page, gui.hostA.name).locator('.host-row').click();
    await page.getByRole('button', { name: 'New VM' }).click();
    await page.getByRole('dialog', { name: `New VM on ${gui.hostA.name}` }).waitFor();
    await shotBoth('new-vm');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Evacuate host…' }).click();
    await page.getByRole('dialog', { name: `Evacuate ${gui.hostA.name}` }).waitFor();
    await shotBoth('evacuate');
    await page.keyboard.press('Escape');
    await page.getByRole('tab', { name: 'Performance' }).click();
    await page.waitForTimeout(4500);
    await shotBoth('host-performance');
    await gui.engine.call('vms.start', { host: gui.hostB.name, name: vm.name });
    await waitForText(treeVm(page, vm.name), 'Running', 60_000);
    await treeVm(page, vm.name).click();
    await page.getByRole('tab', { name: 'Console' }).click();
    await page.waitForTimeout(3000);
    await shotBoth('vm-console');
    await page.getByRole('tab', { name: 'Performance' }).click();
    await page.waitForTimeout(4500);
    await shotBoth('vm-performance');
  }, 120_000);
});
