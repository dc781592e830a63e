import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { join } from 'node:path';
import { createLabVm, removeLabVm, SHOTS, startGui, treeHost, treeVm, waitForText, type Gui, type LabVm } from './harness.js';

// The Performance tabs in Chromium against the real lab: a running guest's graphs fill in from
// hosts.stats, in light and dark. Run with: npm run build && npx vitest run --project lab test/e2e/performance.test.ts
const tag = Date.now().toString(36).slice(-5);
let gui: Gui;
let vm: LabVm | undefined;

/** How many points a chart figure draws, from its data-points attribute. */
async function points(page: Page, title: RegExp): Promise<number> {
  return Number(await page.getByRole('figure', { name: title }).getAttribute('data-points'));
}

/** Waits until the chart has drawn more than one point (a line, not a dot). */
async function waitForLine(page: Page, title: RegExp): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const count = await points(page, title).catch(() => 0);
    if (count > 1 || Date.now() > deadline) return count;
    await page.waitForTimeout(500);
  }
}

async function openVmPerformance(page: Page, name: string): Promise<void> {
  await waitForText(treeVm(page, name), 'Running');
  await treeVm(page, name).click();
  await page.getByRole('tab', { name: 'Performance' }).click();
}

beforeAll(async () => {
  gui = await startGui();
  vm = await createLabVm(gui.engine, gui.lab, gui.hostA, `perf-gui-${tag}`, { pool: `perf-gui-${tag}`, dirtyMiB: 16 });
}, 240_000);

afterAll(async () => {
  if (vm) await removeLabVm(gui.engine, gui.lab, vm);
  await gui?.close();
}, 120_000);

describe('Performance tabs', () => {
  it('draws a running VM’s CPU, memory and disk graphs and says why its user-mode NIC has none', async () => {
    const { page } = gui;
    await openVmPerformance(page, vm?.name ?? '');
    expect(await waitForLine(page, /^VM CPU usage/)).toBeGreaterThan(1);
    expect(await points(page, /^VM memory/)).toBeGreaterThan(1);
    expect(await points(page, /^VM disk I\/O/)).toBeGreaterThan(1);
    await expect(page.getByRole('figure', { name: 'VM network' }).textContent()).resolves.toMatch(/user-mode/);
    // Straight segments through the samples: recharts draws a linear path with L commands only.
    const path = await page.getByRole('figure', { name: /^VM CPU usage/ }).locator('path.recharts-line-curve').first().getAttribute('d');
    expect(path).toMatch(/^M[\d.,-]+(L[\d.,-]+)+$/);
    await gui.shot('performance-vm-light');
  }, 120_000);

  it('draws the host’s graphs on its own Performance tab', async () => {
    const { page } = gui;
    await treeHost(page, gui.hostA.name).locator('.host-row').click();
    await page.getByRole('tab', { name: 'Performance' }).click();
    expect(await waitForLine(page, /^Host CPU usage/)).toBeGreaterThan(1);
    expect(await points(page, /^Host network/)).toBeGreaterThan(1);
    await gui.shot('performance-host-light');
  }, 120_000);

  it('reads in dark mode too', async () => {
    const page = await gui.newPage({ colorScheme: 'dark' });
    await openVmPerformance(page, vm?.name ?? '');
    expect(await waitForLine(page, /^VM CPU usage/)).toBeGreaterThan(1);
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(SHOTS, 'performance-vm-dark.png') });
    await page.context().close();
  }, 120_000);
});
