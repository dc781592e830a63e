import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLabVm, removeLabVm, SHOTS, startGui, treeVm, waitForText, type Gui, type LabVm } from './harness.js';

// Both consoles in the browser against a running lab guest: a line typed into the serial terminal
// comes back from the guest as "ferry-echo: <line>", and the graphical console draws the guest's
// VGA screen, in the light and the dark colour scheme.

const tag = Date.now().toString(36).slice(-4);
let gui: Gui;
let vm: LabVm | undefined;

beforeAll(async () => {
  gui = await startGui();
  vm = await createLabVm(gui.engine, gui.lab, gui.hostA, `cons-e2e-${tag}`);
}, 180_000);

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await gui?.page.screenshot({ path: join(SHOTS, `failed-consoles-${context.task.name.slice(0, 16).replace(/\W+/g, '-')}.png`) }).catch(() => undefined);
});

afterAll(async () => {
  if (!gui) return;
  if (vm) await removeLabVm(gui.engine, gui.lab, vm);
  await gui.close();
}, 180_000);

async function openConsoleTab(page: Page, name: string): Promise<void> {
  await treeVm(page, name).click();
  await page.getByRole('tab', { name: 'Console' }).click();
}

/** How many pixels of the noVNC canvas differ clearly from its first pixel: text on the guest's screen. */
async function drawnPixels(page: Page): Promise<{ width: number; height: number; drawn: number }> {
  return page.locator('.vnc-screen canvas').first().evaluate((canvas: HTMLCanvasElement) => {
    const context = canvas.getContext('2d');
    if (!context || canvas.width === 0 || canvas.height === 0) return { width: canvas.width, height: canvas.height, drawn: 0 };
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let drawn = 0;
    for (let index = 0; index < data.length; index += 4) {
      if (Math.abs((data[index] ?? 0) - (data[0] ?? 0)) + Math.abs((data[index + 1] ?? 0) - (data[1] ?? 0)) + Math.abs((data[index + 2] ?? 0) - (data[2] ?? 0)) > 120) drawn += 1;
    }
    return { width: canvas.width, height: canvas.height, drawn };
  });
}

async function waitForScreen(page: Page): Promise<{ width: number; height: number; drawn: number }> {
  await waitForText(page.locator('.graphical-console [role=status]'), 'Connected', 30_000);
  const deadline = Date.now() + 30_000;
  let last = { width: 0, height: 0, drawn: 0 };
  while (Date.now() < deadline) {
    last = await drawnPixels(page);
    if (last.drawn > 500) return last;
    await page.waitForTimeout(500);
  }
  return last;
}

describe('VM consoles in the GUI', () => {
  it('serial: shows the guest lines, and a line typed in the terminal reaches the guest', async () => {
    const { page } = gui;
    const name = vm?.name ?? '';
    await openConsoleTab(page, name);
    const serial = page.getByLabel('Serial console', { exact: true });
    await waitForText(serial, /ferry-heartbeat \d+/, 60_000);
    await waitForText(page.locator('.consoles .pane-header'), 'live: type to send to the guest', 30_000);
    await serial.click();
    await page.keyboard.type(`hello ${tag}`);
    await page.keyboard.press('Enter');
    await waitForText(serial, `ferry-echo: hello ${tag}`, 30_000);
    await gui.shot('consoles-serial-light');
  }, 180_000);

  it('graphical: the canvas shows the guest screen', async () => {
    const { page } = gui;
    await page.getByRole('button', { name: 'Graphical' }).click();
    const screen = await waitForScreen(page);
    // VGA text mode (80x25 cells of 9x16 pixels) with the guest's text on it.
    expect(screen).toMatchObject({ width: 720, height: 400 });
    expect(screen.drawn).toBeGreaterThan(500);
    await gui.shot('consoles-graphical-light');
  }, 180_000);

  it('both consoles in the dark colour scheme', async () => {
    const dark = await gui.newPage({ colorScheme: 'dark' });
    try {
      const name = vm?.name ?? '';
      await openConsoleTab(dark, name);
      await waitForText(dark.getByLabel('Serial console', { exact: true }), /ferry-heartbeat \d+/, 60_000);
      await dark.waitForTimeout(300);
      await dark.screenshot({ path: join(SHOTS, 'consoles-serial-dark.png') });
      await dark.getByRole('button', { name: 'Graphical' }).click();
      expect((await waitForScreen(dark)).drawn).toBeGreaterThan(500);
      await dark.screenshot({ path: join(SHOTS, 'consoles-graphical-dark.png') });
    } finally {
      await dark.context().close();
    }
  }, 180_000);
});
