import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createLabVm, removeLabVm, startGui, treeHost, treeVm, waitForText, type Gui, type LabVm } from './harness.js';

// Editing a stopped VM's hardware in Chromium against the real lab, and the New VM form's
// hardware fields, in light and dark. Run with: npm run build && npx vitest run --project lab test/e2e/vm-hardware.test.ts
const tag = Date.now().toString(36).slice(-5);
let gui: Gui;
let vm: LabVm | undefined;

async function openOverview(page: Page, name: string): Promise<void> {
  await waitForText(treeVm(page, name), /Shut off|Stopped|Off/i);
  await treeVm(page, name).click();
  await page.getByRole('tab', { name: 'Overview' }).click();
}

beforeAll(async () => {
  gui = await startGui();
  vm = await createLabVm(gui.engine, gui.lab, gui.hostA, `hw-gui-${tag}`, { pool: `hw-gui-${tag}`, start: false });
}, 240_000);

afterAll(async () => {
  if (vm) await removeLabVm(gui.engine, gui.lab, vm);
  await gui?.close();
}, 120_000);

describe('VM hardware in the GUI', () => {
  it('edits a stopped VM: memory, CPUs and a second NIC, and the overview shows them', async () => {
    const { page } = gui;
    const name = vm?.name ?? '';
    await openOverview(page, name);
    await page.getByRole('button', { name: 'Edit hardware…' }).click();
    const dialog = page.getByRole('dialog', { name: `Edit ${name}` });
    await dialog.getByLabel('Memory (MiB)', { exact: true }).fill('192');
    await dialog.getByLabel('vCPUs', { exact: true }).fill('2');
    await dialog.getByRole('button', { name: 'Add network interface' }).click();
    await dialog.getByLabel('NIC 1 model').selectOption('e1000');
    await gui.shot('vm-hardware-edit-light');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await waitForText(page.locator('.kv-row', { hasText: 'Network' }), /e1000 on user-mode \(52:54:00/);
    await expect(page.locator('.kv-row', { hasText: 'Memory' }).textContent()).resolves.toMatch(/192/);
    await expect(page.locator('.kv-row', { hasText: 'Confinement' }).textContent()).resolves.toMatch(/seccomp sandbox/);
    await expect(page.locator('.kv-row', { hasText: 'CPU model' }).textContent()).resolves.toMatch(/Nehalem-v1/);
    const info = await gui.engine.call('vms.info', { host: gui.hostA.name, name });
    expect(info).toMatchObject({ memoryMiB: 192, vcpus: 2 });
    expect(info.definition?.nics?.map((nic) => nic.model)).toEqual(['e1000']);
    await gui.shot('vm-hardware-overview-light');
  }, 120_000);

  it('shows the hardware fields of New VM and the overview in dark mode', async () => {
    const page = await gui.newPage({ colorScheme: 'dark' });
    await treeHost(page, gui.hostA.name).locator('.host-row').click();
    await page.getByRole('button', { name: 'New VM' }).first().click();
    const dialog = page.getByRole('dialog', { name: /New VM on/ });
    await dialog.getByLabel('NIC 1 network').selectOption('bridge');
    await dialog.getByLabel('NIC 1 bridge').fill('-x');
    await dialog.getByRole('checkbox', { name: 'Install from an ISO image (CD-ROM)' }).check();
    await dialog.getByRole('button', { name: 'Create VM' }).click();
    await waitForText(dialog.locator('.field-error'), /bridge names are 1–15/);
    await page.screenshot({ path: `test-artifacts/screenshots/vm-hardware-new-dark.png` });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await openOverview(page, vm?.name ?? '');
    await page.screenshot({ path: `test-artifacts/screenshots/vm-hardware-overview-dark.png` });
    await page.close();
  }, 120_000);
});
