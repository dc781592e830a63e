import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionManager } from '../../../src-main/core/host/connections.js';
import type { SavedHost } from '../../../src-main/core/host/registry.js';
import { resolveSshConfig } from '../../../src-main/core/ssh/config.js';
import { labStatus } from '../../lab/lab.js';
import { sshRun } from '../../lab/ssh.js';
import type { LabHost, LabStatus } from '../../lab/types.js';

// A real ~/.ssh/config-style file with Include and Match, resolved by the real `ssh -G`, and real
// connections to the lab's sshd: the second of two IdentityFiles, the system-wide known_hosts, and a
// two-hop ProxyJump (the lab's sshd allows TCP forwarding).
let lab: LabStatus;
let hostA: LabHost;
let hostB: LabHost;
let dir: string;
let configPath: string;
let unauthorizedKey: string;
let globalKnownHosts: string;
let manager: ConnectionManager;

function savedHost(name: string, address: string): SavedHost {
  return { transport: 'ssh', name, address, useAgent: false, autoconnect: false };
}

beforeAll(() => {
  const status = labStatus();
  if (status === null) throw new Error('The lab is not up: this test needs `npm run lab -- up` (run by the lead).');
  lab = status;
  [hostA, hostB] = lab.hosts as [LabHost, LabHost];
  dir = mkdtempSync(join(tmpdir(), 'ferry-ssh-config-lab-'));
  unauthorizedKey = join(dir, 'id_not_authorized');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'not authorized anywhere', '-f', unauthorizedKey]);
  globalKnownHosts = join(dir, 'ssh_known_hosts');
  copyFileSync(lab.knownHostsFile, globalKnownHosts);

  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(
    join(dir, 'conf.d', 'lab.conf'),
    [
      'Host ferry-alias-a ferry-hop-a',
      `  HostName ${hostA.address}`,
      'Host ferry-hop-b',
      `  HostName ${hostB.address}`,
      'Host ferry-two-hops',
      `  HostName ${hostB.address}`,
      '  ProxyJump ferry-hop-b,ferry-hop-a',
      'Host ferry-only-bad-key',
      `  HostName ${hostA.address}`,
      `  IdentityFile ${unauthorizedKey}`,
      `  GlobalKnownHostsFile ${globalKnownHosts}`,
      '',
    ].join('\n'),
  );
  configPath = join(dir, 'config');
  writeFileSync(
    configPath,
    [
      `Include ${join(dir, 'conf.d', '*.conf')}`,
      // Only reached through Match: the keys and known-hosts files exist for lab addresses alone.
      `Match host ${hostA.address},${hostB.address} originalhost *,!ferry-only-bad-key`,
      `  User ${hostA.user}`,
      `  IdentityFile ${unauthorizedKey}`,
      `  IdentityFile ${hostA.identityFile}`,
      '  IdentitiesOnly yes',
      `  GlobalKnownHostsFile ${globalKnownHosts}`,
      '  UserKnownHostsFile /dev/null',
      '',
    ].join('\n'),
  );
  // Ferry's own known_hosts starts empty and there is no prompt: only the system-wide file can vouch.
  const ferryKnownHosts = join(dir, 'ferry_known_hosts');
  writeFileSync(ferryKnownHosts, '');
  manager = new ConnectionManager({ ferryKnownHosts, sshConfigPath: configPath });
});

afterAll(async () => {
  await manager?.closeAll();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('ssh config through ssh -G against the lab', () => {
  it('routes an alias to lab host a through Include and Match, as OpenSSH reads it', async () => {
    const resolved = await resolveSshConfig('ferry-alias-a', { configPath });
    expect(resolved).toMatchObject({
      resolvedBy: 'ssh -G',
      hostName: hostA.address,
      port: 22,
      identityFiles: [unauthorizedKey, hostA.identityFile],
      globalKnownHostsFiles: [globalKnownHosts],
      userKnownHostsFiles: ['/dev/null'],
    });
  });

  it('connects with the second IdentityFile after the host refuses the first, trusting the system-wide known_hosts', async () => {
    const transport = await manager.get(savedHost('cfg-a', 'ferry-alias-a'));
    const client = (await transport.run('echo "$SSH_CONNECTION"')).trim().split(' ');
    expect(client[2]).toBe(hostA.address);
  }, 60_000);

  it('fails to authenticate when only the key the host refuses is configured', async () => {
    await expect(manager.get(savedHost('cfg-bad', 'ferry-only-bad-key'))).rejects.toMatchObject({ code: 'auth-failed' });
  }, 60_000);

  it('reaches lab host b through a two-hop ProxyJump: b first, then a', async () => {
    const transport = await manager.get(savedHost('cfg-two-hops', 'ferry-two-hops'));
    // The target sees its client at a (the last hop), and a sees its own client at b (the first).
    const [clientAddress, , serverAddress] = (await transport.run('echo "$SSH_CONNECTION"')).trim().split(' ');
    expect(serverAddress).toBe(hostB.address);
    expect(clientAddress).toBe(hostA.address);
    const onA = await sshRun(lab, hostA, 'ss -tnH state established');
    expect(onA.stdout).toMatch(new RegExp(`${hostA.address.replace(/\./g, '\\.')}:22\\s+${hostB.address.replace(/\./g, '\\.')}:\\d+`));
  }, 90_000);
});
