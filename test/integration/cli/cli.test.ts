/**
 * The README journey with the real `ferry` binary (bin/ferry.js over dist/, so run
 * `npm run build:main` first), as a new user would type it: a fresh FERRY_HOME and a HOME with no
 * ~/.ssh of its own, against the lab hosts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostSummary, VmSummary } from '../../../src-main/core/api/types.js';
import { runFerry, type CliResult } from '../../support/cli-runner.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const POOL = 'eng-cli-images';
const POOL_PATH = `/var/lib/ferry/${POOL}`;
const VOLUME = 'eng-cli-disk0.qcow2';
const VM = 'eng-cli-demo';
let scratch: string;
let env: NodeJS.ProcessEnv;
let admin: LabEngine;


function ferry(...args: string[]): Promise<CliResult> {
  return runFerry(env, args);
}

async function ok(...args: string[]): Promise<string> {
  const result = await ferry(...args);
  expect(result.code, `ferry ${args.join(' ')}\n${result.stderr}${result.stdout}`).toBe(0);
  return result.stdout;
}

async function cleanup(): Promise<void> {
  const { engine } = admin;
  await engine.call('vms.destroy', { host: 'a', name: VM }).catch(() => undefined);
  await engine.call('vms.undefine', { host: 'a', name: VM }).catch(() => undefined);
  await engine.call('pools.delete', { host: 'a', pool: POOL }).catch(() => undefined);
  await admin.sh('a', `rm -rf ${POOL_PATH} /var/lib/ferry/logs/${VM}.serial.log`);
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'main', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build:main` before the CLI tests');
  admin = await labEngine();
  await cleanup();
  scratch = mkdtempSync(join(tmpdir(), 'ferry-eng-cli-'));
  const home = join(scratch, 'home');
  // A new user: nothing in ~/.ssh, no agent, Ferry's state in a directory of its own.
  env = { PATH: process.env['PATH'], HOME: home, FERRY_HOME: join(scratch, 'ferry-home'), LANG: 'C.UTF-8' };
});

afterAll(async () => {
  if (admin) {
    await cleanup();
    await admin.engine.close();
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('ferry CLI', () => {
  it('prints its version and help', async () => {
    const version = (await ok('--version')).trim();
    expect(version).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    const help = await ok('--help');
    for (const command of ['host', 'pool', 'vol', 'vm', 'migrate']) expect(help).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    expect(help).toContain('--json');
    const vmHelp = await ok('vm', '--help');
    for (const command of ['define', 'start', 'pause', 'resume', 'shutdown', 'destroy', 'undefine', 'adopt', 'console', 'list', 'info']) expect(vmHelp).toContain(command);
    const unknown = await ferry('frobnicate');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('ferry --help');
  });

  it('refuses an unknown host key without --accept-new-host-key and prints its fingerprint', async () => {
    const host = admin.labHost('a');
    const refused = await ferry('host', 'add', 'a', '--ssh', `root@${host.address}`, '--identity', host.identityFile);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(host.hostKeyFingerprint);
    expect(refused.stdout).toBe('');
    const json = await ferry('--json', 'host', 'add', 'a', '--ssh', `root@${host.address}`, '--identity', host.identityFile);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as { error: { code: string; details: { fingerprint: string } } };
    expect(parsed.error.code).toBe('host-key-unknown');
    expect(parsed.error.details.fingerprint).toBe(host.hostKeyFingerprint);
    expect(await ok('host', 'list')).toContain('No hosts yet');
  });

  it('adds the host with --accept-new-host-key, or with the fingerprint it was shown', async () => {
    const a = admin.labHost('a');
    const added = await ok('host', 'add', 'a', '--ssh', `root@${a.address}`, '--identity', a.identityFile, '--accept-new-host-key');
    expect(added).toContain(`Added a  qemu+ssh://root@${a.address}/system  connected`);
    expect(readFileSync(join(env['FERRY_HOME'] ?? '', 'known_hosts'), 'utf8').trim()).toBe(a.knownHostsLine);
    const b = admin.labHost('b');
    await ok('host', 'add', 'b', '--ssh', `root@${b.address}`, '--identity', b.identityFile, '--trust-fingerprint', b.hostKeyFingerprint);
    const hosts = JSON.parse(await ok('host', 'list', '--json')) as HostSummary[];
    expect(hosts.map((entry) => entry.name)).toEqual(['a', 'b']);
    const again = await ferry('host', 'add', 'a', '--ssh', `root@${a.address}`, '--identity', a.identityFile);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect(await ok('host', 'info', 'a')).toMatch(/QEMU: +7\.2\S* \(qemu-system-x86_64\), default machine pc-q35-7\.2/);
  });

  it('defines a pool and creates a volume in it', async () => {
    expect(await ok('pool', 'define', 'a', POOL, '--type', 'dir', '--path', POOL_PATH)).toMatch(new RegExp(`^Defined ${POOL} \\(dir\\) ${POOL_PATH} active, `));
    const created = await ok('vol', 'create', 'a', POOL, VOLUME, '--capacity', '1G');
    expect(created).toContain(`Path:        ${POOL_PATH}/${VOLUME}`);
    expect(created).toContain('Format:      qcow2');
    expect(created).toContain('Capacity:    1.0 GiB');
    const badSize = await ferry('vol', 'create', 'a', POOL, 'eng-cli-bad.qcow2', '--capacity', '10X');
    expect(badSize.code).toBe(2);
    expect(badSize.stderr).toContain('is not a size unit');
  });

  it('defines, starts and lists a VM, and shows its console', async () => {
    const guest = admin.lab.guest;
    const defined = await ok('vm', 'define', 'a', VM, '--memory', '128', '--vcpus', '1', '--accel', 'tcg', '--disk', `${POOL_PATH}/${VOLUME}`, '--kernel', guest.kernel, '--initrd', guest.initrd, '--append', 'console=ttyS0 quiet');
    expect(defined).toContain('State:       shutoff');
    expect(defined).toContain(`Disk 0:      ${POOL_PATH}/${VOLUME} (qcow2, cache=none)`);
    const bad = await ferry('vm', 'define', 'a', 'a;reboot', '--memory', '128', '--vcpus', '1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('name: VM names may use');

    expect(await ok('vm', 'start', 'a', VM)).toMatch(/State: +running/);
    const deadline = Date.now() + 90_000;
    let console = '';
    while (!/ferry-heartbeat [2-9]\d* /.test(console) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      console = await ok('vm', 'console', 'a', VM);
    }
    expect(console).toMatch(/ferry-heartbeat \d+ disk=\d+/);
    const vms = JSON.parse(await ok('vm', 'list', 'a', '--json')) as VmSummary[];
    expect(vms.find((vm) => vm.name === VM)).toMatchObject({ host: 'a', state: 'running', memoryMiB: 128, vcpus: 1, defined: true });
    expect(await ok('vm', 'list', 'a')).toMatch(new RegExp(`^${VM} +running +128 MiB +1$`, 'm'));
    expect(await ok('vm', 'destroy', 'a', VM)).toMatch(/State: +shutoff/);
    expect(await ok('vm', 'undefine', 'a', VM)).toBe(`Undefined ${VM}\n`);
  });

  it('settles unfinished migrations on request, and says when there are none', async () => {
    expect(await ok('migration', 'recover')).toBe('Nothing to recover: no migration is left unfinished.\n');
    expect(JSON.parse(await ok('--json', 'migration', 'recover'))).toEqual([]);
    const help = await ok('migrate', '--help');
    expect(help).toContain('--reuse-images');
    expect(help).toMatch(/--transport <transport>\s+tls \(default/);
  });
});
