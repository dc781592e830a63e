import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProxyJump, resolveSshConfig } from '../../../src-main/core/ssh/config.js';

let dir: string;
let configPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-ssh-config-'));
  configPath = join(dir, 'config');
  writeFileSync(
    configPath,
    [
      '# lab hosts',
      'Host kvm1',
      '  HostName 10.0.0.11',
      '  User admin',
      '  Port 2222',
      '  IdentityFile ~/.ssh/id_kvm1',
      '  IdentityFile "%d/keys/%r@%h"',
      '  ProxyJump jump@bastion.example:2200',
      '',
      'Host kvm2',
      '  HostName %h.lab.example',
      '',
      'Host *.lab',
      '  user labuser',
      '  proxyjump none',
      '',
      'Host *',
      '  User fallback',
      '  IdentityFile ~/.ssh/id_default',
      '',
    ].join('\n'),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const opts = () => ({ configPath, homeDir: '/home/me', localUser: 'me' });

describe('resolveSshConfig', () => {
  it('resolves HostName, User, Port, IdentityFile (with ~ and tokens) and ProxyJump', async () => {
    await expect(resolveSshConfig('kvm1', opts())).resolves.toEqual({
      alias: 'kvm1',
      hostName: '10.0.0.11',
      user: 'admin',
      port: 2222,
      identityFiles: ['/home/me/.ssh/id_kvm1', '/home/me/keys/admin@10.0.0.11', '/home/me/.ssh/id_default'],
      proxyJump: 'jump@bastion.example:2200',
      userKnownHostsFiles: ['/home/me/.ssh/known_hosts', '/home/me/.ssh/known_hosts2'],
      globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
      strictHostKeyChecking: 'ask',
      resolvedBy: 'parser',
    });
  });

  it('expands %h in HostName and falls through to Host *', async () => {
    await expect(resolveSshConfig('kvm2', opts())).resolves.toMatchObject({ hostName: 'kvm2.lab.example', user: 'fallback', port: 22, proxyJump: undefined });
  });

  it('is case-insensitive about keywords and treats ProxyJump none as none', async () => {
    await expect(resolveSshConfig('a.lab', opts())).resolves.toMatchObject({ hostName: 'a.lab', user: 'labuser', proxyJump: undefined });
  });

  it('uses defaults when the config file does not exist', async () => {
    await expect(resolveSshConfig('plain', { ...opts(), configPath: join(dir, 'missing') })).resolves.toEqual({
      alias: 'plain',
      hostName: 'plain',
      user: undefined,
      port: 22,
      identityFiles: [],
      proxyJump: undefined,
      userKnownHostsFiles: ['/home/me/.ssh/known_hosts', '/home/me/.ssh/known_hosts2'],
      globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
      strictHostKeyChecking: 'ask',
      resolvedBy: 'parser',
    });
  });

  it('rejects an invalid port', async () => {
    const bad = join(dir, 'bad');
    writeFileSync(bad, 'Host x\n  Port banana\n');
    await expect(resolveSshConfig('x', { ...opts(), configPath: bad })).rejects.toMatchObject({ code: 'invalid-input' });
  });
});

describe('parseProxyJump', () => {
  it('splits hops with optional user and port', () => {
    expect(parseProxyJump('jump@bastion:2200,inner,[fe80::1]:22')).toEqual([
      { user: 'jump', host: 'bastion', port: 2200 },
      { user: undefined, host: 'inner', port: undefined },
      { user: undefined, host: 'fe80::1', port: 22 },
    ]);
  });
});
