/**
 * Adding hosts over real SSH to the lab: host keys (unknown, trusted by fingerprint, wrong
 * fingerprint, changed), client keys, and host info read from the real hosts.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryEngine } from '../../../src-main/core/engine.js';
import { requireLab } from '../../support/lab-engine.js';
import type { LabStatus } from '../../lab/types.js';
import { keyFingerprint, rejection } from './helpers.js';

let lab: LabStatus;
let scratch: string;
const engines: FerryEngine[] = [];

function freshEngine(): { engine: FerryEngine; home: string } {
  const home = mkdtempSync(join(scratch, 'home-'));
  const engine = new FerryEngine({ home, userKnownHosts: null, sshConfigPath: '/nonexistent' });
  engines.push(engine);
  return { engine, home };
}

function hostA() {
  const host = lab.hosts[0];
  if (!host) throw new Error('lab has no host a');
  return host;
}

const sshInput = (name: string, extra: Record<string, unknown> = {}) => {
  const host = hostA();
  return { transport: 'ssh', name, address: host.address, port: host.port, user: host.user, identityFile: host.identityFile, useAgent: false, ...extra };
};

beforeAll(() => {
  lab = requireLab();
  scratch = mkdtempSync(join(tmpdir(), 'ferry-eng-hosts-'));
});

afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  rmSync(scratch, { recursive: true, force: true });
});

describe('hosts.add host key checks', () => {
  it('refuses an unknown host key without trust and shows its real fingerprint', async () => {
    const { engine, home } = freshEngine();
    const error = await rejection(engine.call('hosts.add', sshInput('a')));
    expect(error.code).toBe('host-key-unknown');
    expect(error.details?.['fingerprint']).toBe(hostA().hostKeyFingerprint);
    expect(error.details?.['keyType']).toBe('ssh-ed25519');
    expect(error.message).toContain(hostA().hostKeyFingerprint);
    expect(await engine.call('hosts.list', {})).toEqual([]);
    expect(() => readFileSync(join(home, 'known_hosts'), 'utf8')).toThrow(/ENOENT/);
  });

  it('connects with the right trustFingerprint and records the key in FERRY_HOME/known_hosts', async () => {
    const { engine, home } = freshEngine();
    const added = await engine.call('hosts.add', sshInput('a', { trustFingerprint: hostA().hostKeyFingerprint }));
    expect(added.state).toBe('connected');
    expect(added.uri).toBe(`qemu+ssh://root@${hostA().address}/system`);
    const knownHosts = readFileSync(join(home, 'known_hosts'), 'utf8');
    // The recorded line is the lab's own known_hosts line for that host, byte for byte.
    expect(knownHosts.trim()).toBe(hostA().knownHostsLine);
    expect((await engine.call('hosts.list', {})).map((host) => [host.name, host.state])).toEqual([['a', 'connected']]);

    // A restarted client on the same FERRY_HOME connects without being asked again.
    await engine.close();
    const again = new FerryEngine({ home, userKnownHosts: null, sshConfigPath: '/nonexistent' });
    engines.push(again);
    expect((await again.call('hosts.connect', { name: 'a' })).state).toBe('connected');
    expect((await again.call('hosts.info', { host: 'a' })).hostname).toBeTruthy();
  });

  it('accepts a new key with acceptNewHostKey', async () => {
    const { engine, home } = freshEngine();
    expect((await engine.call('hosts.add', sshInput('a', { acceptNewHostKey: true }))).state).toBe('connected');
    expect(readFileSync(join(home, 'known_hosts'), 'utf8').trim()).toBe(hostA().knownHostsLine);
  });

  it('reads a key path written with ~ as the user\'s home, as the dialog\'s placeholder suggests', async () => {
    const { engine } = freshEngine();
    const home = mkdtempSync(join(scratch, 'user-home-'));
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    copyFileSync(hostA().identityFile, join(home, '.ssh', 'id_lab'));
    const before = process.env['HOME'];
    process.env['HOME'] = home;
    try {
      const added = await engine.call('hosts.add', sshInput('tilde', { identityFile: '~/.ssh/id_lab', acceptNewHostKey: true }));
      expect(added.state).toBe('connected');
      expect(added.identityFile).toBe('~/.ssh/id_lab');
    } finally {
      process.env['HOME'] = before;
    }
  });

  it('refuses a wrong trustFingerprint and saves nothing', async () => {
    const { engine, home } = freshEngine();
    const wrong = `SHA256:${'A'.repeat(43)}`;
    const error = await rejection(engine.call('hosts.add', sshInput('a', { trustFingerprint: wrong })));
    expect(error.code).toBe('host-key-unknown');
    expect(error.details?.['fingerprint']).toBe(hostA().hostKeyFingerprint);
    expect(await engine.call('hosts.list', {})).toEqual([]);
    expect(() => readFileSync(join(home, 'known_hosts'), 'utf8')).toThrow(/ENOENT/);
  });

  it('refuses a changed host key, naming both fingerprints, even with acceptNewHostKey', async () => {
    const { engine, home } = freshEngine();
    const otherKey = join(scratch, 'other_host_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'eng-other', '-f', otherKey]);
    const otherFingerprint = keyFingerprint(`${otherKey}.pub`);
    const [type, blob] = readFileSync(`${otherKey}.pub`, 'utf8').trim().split(/\s+/);
    writeFileSync(join(home, 'known_hosts'), `${hostA().address} ${type} ${blob}\n`, { mode: 0o600 });

    for (const extra of [{}, { acceptNewHostKey: true }, { trustFingerprint: hostA().hostKeyFingerprint }]) {
      const error = await rejection(engine.call('hosts.add', sshInput('a', extra)));
      expect(error.code).toBe('host-key-changed');
      expect(error.message).toContain(hostA().hostKeyFingerprint);
      expect(error.message).toContain(otherFingerprint);
      expect(error.details?.['fingerprint']).toBe(hostA().hostKeyFingerprint);
      expect(error.details?.['knownFingerprints']).toEqual([otherFingerprint]);
      expect(await engine.call('hosts.list', {})).toEqual([]);
    }
    // The recorded key was not replaced.
    expect(readFileSync(join(home, 'known_hosts'), 'utf8')).toBe(`${hostA().address} ${type} ${blob}\n`);
  });

  it('reports auth-failed for a client key the host does not know', async () => {
    const { engine } = freshEngine();
    const wrongKey = join(scratch, 'wrong_client_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'eng-wrong', '-f', wrongKey]);
    const error = await rejection(engine.call('hosts.add', sshInput('a', { identityFile: wrongKey, acceptNewHostKey: true })));
    expect(error.code).toBe('auth-failed');
    expect(error.message).toContain(`root@${hostA().address}`);
    expect(await engine.call('hosts.list', {})).toEqual([]);
  });

  it('refuses a second host of the same name without connecting', async () => {
    const { engine } = freshEngine();
    await engine.call('hosts.add', sshInput('a', { acceptNewHostKey: true }));
    const error = await rejection(engine.call('hosts.add', sshInput('a', { acceptNewHostKey: true })));
    expect(error.code).toBe('already-exists');
    expect((await engine.call('hosts.list', {})).map((host) => host.name)).toEqual(['a']);
  });
});

describe('hosts.info', () => {
  it('reads QEMU 7.2, the q35 default, CPUs and memory from a lab host', async () => {
    const { engine } = freshEngine();
    await engine.call('hosts.add', sshInput('a', { trustFingerprint: hostA().hostKeyFingerprint }));
    const info = await engine.call('hosts.info', { host: 'a' });
    const ssh = ['-i', hostA().identityFile, '-o', `UserKnownHostsFile=${lab.knownHostsFile}`, '-o', 'BatchMode=yes', `root@${hostA().address}`];
    const truth = execFileSync('ssh', [...ssh, 'hostname; nproc; grep MemTotal /proc/meminfo; qemu-system-x86_64 --version | head -n1'], { encoding: 'utf8' }).split('\n');
    expect(info.name).toBe('a');
    expect(info.hostname).toBe(truth[0]);
    expect(info.cpuCount).toBe(Number(truth[1]));
    expect(info.cpuCount).toBeGreaterThan(0);
    expect(info.memoryTotalBytes).toBe(Number(/(\d+)/.exec(truth[2] ?? '')?.[1]) * 1024);
    expect(info.memoryAvailableBytes).toBeGreaterThan(0);
    expect(info.memoryAvailableBytes).toBeLessThanOrEqual(info.memoryTotalBytes);
    expect(info.qemuVersion).toMatch(/^7\.2(\.|$)/);
    expect(truth[3]).toContain(`version ${info.qemuVersion}`);
    expect(info.defaultMachineType).toBe('pc-q35-7.2');
    expect(info.machineTypes).toContain('pc-q35-7.2');
    expect(info.cpuModel).not.toBe('');
    expect(typeof info.kvmUsable).toBe('boolean');
    expect(info.stateDir).toBe('/var/lib/ferry');
    // Read from a throwaway QEMU's schema on the host: 7.2 still has the block capability 9.1 removed.
    expect(info.qemuFeatures).toEqual({ postcopy: true, multifd: true, tls: true, blockExport: true, blockMigrationCapability: true });
  });

  it('works for the local machine without SSH', async () => {
    const { engine } = freshEngine();
    const added = await engine.call('hosts.add', { transport: 'local', name: 'here' });
    expect(added).toMatchObject({ name: 'here', transport: 'local', uri: 'qemu:///system', state: 'connected' });
    const info = await engine.call('hosts.info', { host: 'here' });
    expect(info.hostname).toBe(execFileSync('hostname', { encoding: 'utf8' }).trim());
    expect(info.cpuCount).toBe(Number(execFileSync('nproc', { encoding: 'utf8' }).trim()));
    expect(info.qemuVersion).toBe(/version (\S+)/.exec(execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }))?.[1]);
    expect(info.defaultMachineType).toMatch(/^pc-q35-\d+\.\d+$/);
    expect(info.memoryTotalBytes).toBeGreaterThan(0);
  });
});
