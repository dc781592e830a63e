import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SshTransport } from '../../../src-main/core/ssh/connection.js';
import { addKnownHost } from '../../../src-main/core/ssh/known-hosts.js';
import { LocalTransport } from '../../../src-main/core/ssh/local.js';
import type { HostTransport } from '../../../src-main/core/ssh/transport.js';
import { TestSshd } from './sshd-harness.js';
import { rejection } from '../../support/rejection.js';

let sshd: TestSshd;
let work: string;
const open: SshTransport[] = [];

async function sshTransport(): Promise<SshTransport> {
  const knownHosts = join(work, `known_hosts-${open.length}`);
  const [type, base64] = sshd.hostKey.publicLine.split(' ');
  await addKnownHost(knownHosts, '127.0.0.1', sshd.port, type ?? '', Buffer.from(base64 ?? '', 'base64'));
  const key = sshd.generateKey(`client-${open.length}`, 'ed25519');
  sshd.authorize(key);
  const t = new SshTransport({
    label: 'lab',
    host: '127.0.0.1',
    port: sshd.port,
    username: 'root',
    auth: { identityFile: key.path },
    knownHostsFiles: [{ path: knownHosts, writable: true }],
  });
  open.push(t);
  await t.connect();
  return t;
}


/** Processes on this machine (the sshd harness runs here too) whose command line is exactly `line`. */
function processesRunning(line: string): string[] {
  try {
    return execFileSync('pgrep', ['-x', '-f', line], { encoding: 'utf8' }).trim().split('\n');
  } catch {
    return [];
  }
}

async function eventually(check: () => boolean, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

beforeAll(async () => {
  sshd = await TestSshd.start();
  work = mkdtempSync(join(tmpdir(), 'ferry-exec-limits-'));
});

afterAll(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  await sshd?.dispose();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

const transports: Array<[string, () => Promise<HostTransport>]> = [
  ['LocalTransport', async () => new LocalTransport('here')],
  ['SshTransport', sshTransport],
];

describe.each(transports)('%s command limits', (name, make) => {
  // Each transport gets its own sleep length, so a survivor can be told apart from the other run.
  const tag = name === 'LocalTransport' ? '1' : '2';

  it('kills a command whose stdout passes the default 16 MiB cap, names it, and stays usable', async () => {
    const t = await make();
    const started = Date.now();
    const error = await rejection(t.exec('yes | head -c 40M'));
    expect(error.code).toBe('output-too-large');
    expect(error.message).toContain('`yes`');
    expect(error.message).toContain('16 MiB');
    expect(error.details).toMatchObject({ stream: 'stdout', limitBytes: 16 * 1024 * 1024 });
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(t.run('echo still usable')).resolves.toBe('still usable\n');
  });

  it('takes a per-call cap for stdout, and caps stderr at 1 MiB by default', async () => {
    const t = await make();
    await expect(t.run('head -c 4000 /dev/zero | tr "\\0" x', { maxOutputBytes: 4000 })).resolves.toHaveLength(4000);
    const small = await rejection(t.run('head -c 4001 /dev/zero | tr "\\0" x', { maxOutputBytes: 4000 }));
    expect(small.code).toBe('output-too-large');
    expect(small.message).toContain('4000 bytes');
    const stderr = await rejection(t.exec('head -c 3M /dev/zero >&2'));
    expect(stderr.code).toBe('output-too-large');
    expect(stderr.details).toMatchObject({ stream: 'stderr', limitBytes: 1024 * 1024 });
    await expect(t.exec('head -c 3M /dev/zero >&2', { maxStderrBytes: 4 * 1024 * 1024 })).resolves.toMatchObject({ code: 0 });
  });

  it('kills a command that overruns its timeout, saying where and how long, and leaves no process behind', async () => {
    const t = await make();
    const line = `sleep 7.${tag}1`;
    const started = Date.now();
    const error = await rejection(t.exec(line, { timeoutMs: 200 }));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.code).toBe('timeout');
    expect(error.message).toContain(t.label);
    expect(error.message).toContain('200 ms');
    expect(error.message).toContain('`sleep`');
    expect(await eventually(() => processesRunning(line).length === 0, 2_000)).toBe(true);
  });

  it('kills a command whose timeout ran out before it had even started', async () => {
    const t = await make();
    const line = `sleep 7.${tag}2`;
    expect((await rejection(t.exec(line, { timeoutMs: 1 }))).code).toBe('timeout');
    // Give a late-starting command time to show up, then check it is gone.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await eventually(() => processesRunning(line).length === 0, 2_000)).toBe(true);
  });

  it('frees every command slot after timeouts: more commands than slots still run', async () => {
    const t = await make();
    const timedOut = await Promise.all(Array.from({ length: 12 }, () => rejection(t.exec(`sleep 7.${tag}3`, { timeoutMs: 300 }))));
    expect(timedOut.map((error) => error.code)).toEqual(Array(12).fill('timeout'));
    const started = Date.now();
    const outputs = await Promise.all(Array.from({ length: 12 }, (_, i) => t.run(`echo ${i}`, { timeoutMs: 10_000 })));
    expect(outputs).toEqual(Array.from({ length: 12 }, (_, i) => `${i}\n`));
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('kills a command after two minutes when the caller gave no timeout', async () => {
    const t = await make();
    const line = `sleep 7.${tag}4`;
    // Only the timers: the command, the pipes and the SSH socket stay real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let settled = false;
      const outcome = rejection(t.exec(line)).finally(() => {
        settled = true;
      });
      const deadline = Date.now() + 5_000;
      while (processesRunning(line).length === 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
      expect(processesRunning(line)).not.toEqual([]);
      await vi.advanceTimersByTimeAsync(119_000);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1_000);
      const error = await outcome;
      expect(error.code).toBe('timeout');
      expect(error.message).toContain('120 s');
    } finally {
      vi.useRealTimers();
    }
    expect(await eventually(() => processesRunning(line).length === 0, 2_000)).toBe(true);
  });

  it('lets a caller opt out of the timeout with null', async () => {
    const t = await make();
    await expect(t.run('sleep 0.2; echo done', { timeoutMs: null })).resolves.toBe('done\n');
  });
});
