/**
 * The QMP client against a real QEMU (machine "none", paused, no devices): nothing here is faked.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/errors.js';
import { QmpClient, probeQemu, type QemuCapabilities } from '../../../src-main/core/qmp/index.js';
import { rejection } from '../../support/rejection.js';

const QEMU = 'qemu-system-x86_64';

interface RunningQemu {
  process: ChildProcess;
  socket: string;
  exited: Promise<void>;
}

let directory: string;
const started: RunningQemu[] = [];

async function waitForSocket(path: string, qemu: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (qemu.exitCode !== null) throw new Error(`QEMU exited with ${qemu.exitCode} before creating ${path}`);
    try {
      if ((await stat(path)).isSocket()) return;
    } catch {
      // Not there yet.
    }
    if (Date.now() > deadline) throw new Error(`QEMU did not create ${path} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function startQemu(name: string): Promise<RunningQemu> {
  const socket = join(directory, `${name}.qmp`);
  const child = spawn(QEMU, ['-machine', 'none', '-nodefaults', '-display', 'none', '-S', '-qmp', `unix:${socket},server=on,wait=off`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = { process: child, socket, exited };
  started.push(running);
  await waitForSocket(socket, child);
  return running;
}

function connectUnix(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}


describe('QMP against a real QEMU', () => {
  let qemu: RunningQemu;
  let client: QmpClient;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ferry-qmp-'));
    qemu = await startQemu('main');
    client = await QmpClient.connect(await connectUnix(qemu.socket), { timeoutMs: 10_000 });
  });

  afterAll(async () => {
    await client.close();
    for (const running of started) {
      if (running.process.exitCode === null && running.process.signalCode === null) running.process.kill('SIGKILL');
      await running.exited;
    }
    await rm(directory, { recursive: true, force: true });
  });

  it('negotiates and exposes the greeting', () => {
    expect(client.state).toBe('ready');
    expect(client.greeting?.QMP.capabilities).toContain('oob');
    expect(client.greeting?.QMP.version.qemu.major).toBeGreaterThanOrEqual(7);
  });

  it('query-version matches qemu-system-x86_64 --version', async () => {
    const { stdout } = await promisify(execFile)(QEMU, ['--version']);
    const match = /QEMU emulator version (\d+)\.(\d+)\.(\d+)(?: \((.*)\))?/.exec(stdout);
    expect(match).not.toBeNull();
    const capabilities = await probeQemu(client);
    expect(capabilities.version).toEqual({
      major: Number(match?.[1]),
      minor: Number(match?.[2]),
      micro: Number(match?.[3]),
      package: match?.[4] ?? '',
    });
  });

  it("query-status reports 'prelaunch' for a QEMU started with -S", async () => {
    const status = await client.execute('query-status');
    expect(status).toMatchObject({ status: 'prelaunch', running: false });
  });

  describe('probeQemu', () => {
    let caps: QemuCapabilities;
    beforeAll(async () => {
      caps = await probeQemu(client);
    });

    it('finds the migration and block commands', () => {
      for (const command of ['migrate', 'migrate-incoming', 'blockdev-mirror', 'block-export-add', 'query-migrate']) {
        expect(caps.hasCommand(command), command).toBe(true);
      }
      expect(caps.hasCommand('no-such-command')).toBe(false);
      expect(caps.events.has('MIGRATION')).toBe(true);
      expect(caps.events.has('BLOCK_JOB_READY')).toBe(true);
    });

    it('resolves command arguments through the masked arg-type', () => {
      expect(caps.commandArgs('migrate').has('uri')).toBe(true);
      expect([...caps.commandArgs('blockdev-mirror')]).toEqual(expect.arrayContaining(['job-id', 'device', 'target', 'sync', 'auto-dismiss']));
      expect([...caps.commandArgs('block-export-add')]).toEqual(expect.arrayContaining(['type', 'id', 'node-name', 'writable']));
      expect(caps.commandArgs('block-export-add', 'nbd').has('name')).toBe(true);
      expect(caps.commandArgs('no-such-command').size).toBe(0);
    });

    it('finds the MigrationCapability enum', () => {
      const migrationCapabilities = caps.enumValues('MigrationCapability');
      expect([...migrationCapabilities]).toEqual(expect.arrayContaining(['events', 'return-path', 'pause-before-switchover', 'multifd', 'postcopy-ram']));
      expect(caps.enumValues('RunState').has('prelaunch')).toBe(true);
      expect(caps.enumValues('MigrationStatus').has('pre-switchover')).toBe(true);
      expect(caps.enumValues('MirrorSyncMode').has('full')).toBe(true);
      expect(caps.enumValues('BlockExportType').has('nbd')).toBe(true);
    });

    it('reflects what this QEMU version really has (7.2: blk on migrate, block capability)', () => {
      // Feature-detected, then checked against the version: the two must agree.
      const legacyBlock = caps.enumValues('MigrationCapability').has('block');
      expect(caps.commandArgs('migrate').has('blk')).toBe(legacyBlock);
      expect(legacyBlock).toBe(!caps.atLeast(9, 1));
    });
  });

  it('rejects an unknown command with class CommandNotFound and stays usable', async () => {
    const error = await rejection(client.execute('ferry-no-such-command'));
    expect(error.code).toBe('qmp-error');
    expect(error.details).toMatchObject({ class: 'CommandNotFound', command: 'ferry-no-such-command' });
    await expect(client.execute('query-status')).resolves.toMatchObject({ status: 'prelaunch' });
  });

  it('handles concurrent commands', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? client.execute('query-status') : client.execute('query-name'))));
    results.forEach((result, i) => expect(result).toEqual(i % 2 === 0 ? expect.objectContaining({ status: 'prelaunch' }) : {}));
  });

  it('killing QEMU rejects in-flight commands with qmp-disconnected', async () => {
    const victim = await startQemu('victim');
    const victimClient = await QmpClient.connect(await connectUnix(victim.socket), { timeoutMs: 10_000 });
    const closed = new Promise<FerryError>((resolve) => victimClient.once('close', resolve));
    // Frozen, QEMU cannot answer, so the commands are certainly in flight when it dies.
    victim.process.kill('SIGSTOP');
    const inFlight = [victimClient.execute('query-status'), victimClient.execute('query-qmp-schema')];
    await new Promise((r) => setTimeout(r, 50));
    victim.process.kill('SIGKILL');
    const errors = await Promise.all(inFlight.map(rejection));
    expect(errors.map((e) => e.code)).toEqual(['qmp-disconnected', 'qmp-disconnected']);
    expect((await closed).code).toBe('qmp-disconnected');
    await victim.exited;
  });
});
