import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { FerryEngine } from '../../src-main/core/engine.js';
import { labStatus, labUp } from '../lab/lab.js';
import type { LabHost, LabStatus } from '../lab/types.js';

// Shared by the Chromium end-to-end tests: the real web server (`npm run build` output) with its
// own FERRY_HOME, Debian's Chromium, and the real two-host lab. Each test file starts its own GUI.

export const SHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');

export interface Gui {
  lab: LabStatus;
  home: string;
  url: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** An engine on the same FERRY_HOME, for setting the world up and checking it without the GUI. */
  engine: FerryEngine;
  hostA: LabHost;
  hostB: LabHost;
  /** Saves a screenshot as test-artifacts/screenshots/NAME.png. */
  shot(name: string): Promise<void>;
  /** A second page (a new window or a reloaded tab) on the same server. */
  newPage(options?: { colorScheme?: 'light' | 'dark' }): Promise<Page>;
  close(): Promise<void>;
}

export interface GuiOptions {
  /** Add both lab hosts (trusting their keys) before the page opens; default true. */
  addHosts?: boolean;
  colorScheme?: 'light' | 'dark';
}

/** `npm run web`'s server on FERRY_HOME=home and any free port; resolves with the URL it prints. */
export function startWebServer(home: string): Promise<{ server: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const server = spawn(process.execPath, ['dist/main/web/serve.js'], {
      env: { ...process.env, FERRY_HOME: home, FERRY_WEB_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`serve.js printed no URL:\n${out}\n${err}`)), 20_000);
    server.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^Ferry is serving on (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ server, url: match[1] as string });
      }
    });
    server.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    server.once('exit', (code) => reject(new Error(`serve.js exited with ${code}:\n${err}`)));
  });
}

/** Saves both lab hosts in `home`, trusting exactly the key fingerprints the lab reported. */
export async function addLabHosts(engine: FerryEngine, lab: LabStatus): Promise<void> {
  for (const host of lab.hosts.slice(0, 2)) {
    await engine.call('hosts.add', {
      transport: 'ssh',
      name: host.name,
      address: host.address,
      port: host.port,
      user: host.user,
      identityFile: host.identityFile,
      trustFingerprint: host.hostKeyFingerprint,
    });
  }
}

export async function startGui(options: GuiOptions = {}): Promise<Gui> {
  const lab = labStatus() ?? (await labUp());
  if (lab.hosts.length < 2) throw new Error('the GUI tests need the two-host lab');
  mkdirSync(SHOTS, { recursive: true });
  const home = mkdtempSync(join(tmpdir(), 'ferry-gui-'));
  const engine = new FerryEngine({ home, userKnownHosts: null });
  if (options.addHosts !== false) await addLabHosts(engine, lab);
  const { server, url } = await startWebServer(home);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, colorScheme: options.colorScheme ?? 'light' });
  const page = await context.newPage();
  await page.goto(url);
  const gui: Gui = {
    lab,
    home,
    url,
    browser,
    context,
    page,
    engine,
    hostA: lab.hosts[0] as LabHost,
    hostB: lab.hosts[1] as LabHost,
    async shot(name) {
      await gui.page.waitForTimeout(150);
      await gui.page.screenshot({ path: join(SHOTS, `${name}.png`) });
    },
    async newPage(pageOptions = {}) {
      const other = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: pageOptions.colorScheme ?? 'light' });
      const opened = await other.newPage();
      // The token cookie belongs to the first context; the URL still carries the token.
      await opened.goto(url);
      return opened;
    },
    async close() {
      await browser.close().catch(() => undefined);
      server.kill('SIGTERM');
      await engine.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
  return gui;
}

/** Waits until the locator's text contains `text`. */
export async function waitForText(locator: Locator, text: string | RegExp, timeout = 60_000): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout });
}

export const treeHost = (page: Page, name: string) => page.getByRole('treeitem', { name, exact: true });
export const treeVm = (page: Page, name: string) => page.locator('.vm-row', { hasText: name });

export interface LabVm {
  host: string;
  name: string;
  pool: string;
  poolPath: string;
  volume: string;
}

/**
 * Defines (and by default starts) a lab guest through the engine, not the GUI: a dir pool, a qcow2
 * volume and a VM booting the lab kernel with its serial console on ttyS0. `remove` undoes it all.
 */
export async function createLabVm(
  engine: FerryEngine,
  lab: LabStatus,
  host: LabHost,
  name: string,
  options: { start?: boolean; dirtyMiB?: number; memoryMiB?: number; pool?: string } = {},
): Promise<LabVm> {
  const pool = options.pool ?? `e2e-${name}`;
  const poolPath = `/var/lib/ferry/images/${pool}`;
  const pools = await engine.call('pools.list', { host: host.name });
  if (!pools.some((p) => p.name === pool)) await engine.call('pools.define', { host: host.name, pool, type: 'dir', path: poolPath });
  const volume = `${name}.qcow2`;
  await engine.call('volumes.create', { host: host.name, pool, name: volume, capacity: '64M' });
  await engine.call('vms.define', {
    host: host.name,
    name,
    memoryMiB: options.memoryMiB ?? 128,
    vcpus: 1,
    accel: 'tcg',
    disks: [{ path: `${poolPath}/${volume}` }],
    kernel: lab.guest.kernel,
    initrd: lab.guest.initrd,
    append: `console=ttyS0 ferry.dirty_mib=${options.dirtyMiB ?? 0} quiet`,
  });
  if (options.start !== false) await engine.call('vms.start', { host: host.name, name });
  return { host: host.name, name, pool, poolPath, volume };
}

/** Stops and removes a VM made by createLabVm on every lab host (it may have migrated), with its volume and pool. */
export async function removeLabVm(engine: FerryEngine, lab: LabStatus, vm: LabVm): Promise<void> {
  for (const host of lab.hosts.slice(0, 2)) {
    await engine.call('vms.destroy', { host: host.name, name: vm.name }).catch(() => undefined);
    await engine.call('vms.undefine', { host: host.name, name: vm.name }).catch(() => undefined);
    const volumes = await engine.call('volumes.list', { host: host.name, pool: vm.pool }).catch(() => []);
    for (const v of volumes) await engine.call('volumes.delete', { host: host.name, pool: vm.pool, name: v.name }).catch(() => undefined);
    await engine.call('pools.delete', { host: host.name, pool: vm.pool }).catch(() => undefined);
  }
}
