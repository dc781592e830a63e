import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProxyJump, resolveSshConfig } from '../../../src-main/core/ssh/config.js';
import { isOpenSshDefaultIdentityList, parseSshGOutput, systemSshG } from '../../../src-main/core/ssh/openssh-config.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-ssh-g-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What OpenSSH 9.2 prints for a host with two keys, a two-hop jump and strict checking (abridged). */
const SSH_G_OUTPUT = [
  'host kvm1',
  'user admin',
  'hostname 10.0.0.11',
  'port 2222',
  'addressfamily any',
  'stricthostkeychecking true',
  'identityfile %d/keys/%r@%h',
  'identityfile ~/.ssh/id_second',
  'globalknownhostsfile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2',
  'userknownhostsfile ~/.ssh/known_hosts /srv/shared_known_hosts',
  'proxyjump jump@bastion:2200,inner',
  '',
].join('\n');

const DEFAULT_KEYS = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map((name) => `identityfile ~/.ssh/${name}`);

describe('resolveSshConfig through ssh -G (fake output)', () => {
  it('asks ssh -G with -F, -p, -l and the alias after --, and reads every field from its answer', async () => {
    const asked: string[][] = [];
    const resolved = await resolveSshConfig('kvm1', {
      configPath: '/cfg/ssh_config',
      homeDir: '/home/me',
      localUser: 'me',
      port: 2222,
      user: 'admin',
      sshG: async (args) => {
        asked.push([...args]);
        return SSH_G_OUTPUT;
      },
    });
    expect(asked).toEqual([['-G', '-F', '/cfg/ssh_config', '-p', '2222', '-l', 'admin', '--', 'kvm1']]);
    expect(resolved).toEqual({
      alias: 'kvm1',
      hostName: '10.0.0.11',
      user: 'admin',
      port: 2222,
      identityFiles: ['/home/me/keys/admin@10.0.0.11', '/home/me/.ssh/id_second'],
      proxyJump: 'jump@bastion:2200,inner',
      userKnownHostsFiles: ['/home/me/.ssh/known_hosts', '/srv/shared_known_hosts'],
      globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
      strictHostKeyChecking: 'yes',
      resolvedBy: 'ssh -G',
    });
  });

  it('treats ssh’s built-in key list and the local user name as "nothing configured"', async () => {
    const output = ['user me', 'hostname plain', 'port 22', 'stricthostkeychecking ask', ...DEFAULT_KEYS].join('\n');
    const resolved = await resolveSshConfig('plain', { homeDir: '/home/me', localUser: 'me', sshG: async () => output });
    expect(resolved).toMatchObject({ user: undefined, identityFiles: [], proxyJump: undefined, strictHostKeyChecking: 'ask', resolvedBy: 'ssh -G' });
  });

  it('holds the HostName ssh prints to the rule typed addresses follow', async () => {
    const output = 'hostname evil;rm -rf /\nport 22\n';
    await expect(resolveSshConfig('x', { homeDir: '/home/me', localUser: 'me', sshG: async () => output })).rejects.toMatchObject({ code: 'invalid-input' });
  });

  it('falls back to the parser with a debug note, not an error, when ssh -G fails', async () => {
    const configPath = join(dir, 'fallback');
    writeFileSync(configPath, 'Host kvm9\n  HostName 10.0.0.9\n  IdentityFile /keys/one\n  IdentityFile /keys/two\n');
    const notes: string[] = [];
    const resolved = await resolveSshConfig('kvm9', {
      configPath,
      sshG: async () => {
        throw new Error('ssh -G failed: Bad configuration option: frobnicate');
      },
      debug: (note) => notes.push(note),
    });
    expect(resolved).toMatchObject({ hostName: '10.0.0.9', identityFiles: ['/keys/one', '/keys/two'], resolvedBy: 'parser' });
    expect(notes).toEqual([expect.stringContaining('Bad configuration option: frobnicate')]);
  });

  it('says ssh is not installed when the binary is missing, and the parser answers', async () => {
    const missing = systemSshG(join(dir, 'no-such-ssh'));
    await expect(missing(['-G', '--', 'x'])).rejects.toThrow(/not installed/);
    const notes: string[] = [];
    const resolved = await resolveSshConfig('kvm9', { configPath: join(dir, 'fallback'), sshG: missing, debug: (note) => notes.push(note) });
    expect(resolved.resolvedBy).toBe('parser');
    expect(notes[0]).toMatch(/not installed/);
  });

  it('refuses an alias that ssh would read as an option', async () => {
    await expect(resolveSshConfig('-oProxyCommand=touch /tmp/x', { sshG: async () => SSH_G_OUTPUT })).rejects.toMatchObject({ code: 'invalid-input' });
  });
});

describe('ssh -G output helpers', () => {
  it('keeps repeated keywords in order and lower-cases keywords', () => {
    const values = parseSshGOutput('IdentityFile /a\nidentityfile /b\nuser x\n\n');
    expect(values.get('identityfile')).toEqual(['/a', '/b']);
    expect(values.get('user')).toEqual(['x']);
  });

  it('recognises only ssh’s own default key list', () => {
    expect(isOpenSshDefaultIdentityList(DEFAULT_KEYS.map((line) => line.slice('identityfile '.length)))).toBe(true);
    expect(isOpenSshDefaultIdentityList(['~/.ssh/id_ed25519'])).toBe(false);
    expect(isOpenSshDefaultIdentityList(['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '/keys/mine'])).toBe(false);
  });
});

// The real OpenSSH client (installed wherever Ferry's lab runs) reading fixture files: no network.
describe('resolveSshConfig through the real ssh -G', () => {
  let configPath: string;

  beforeAll(() => {
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', 'hosts.conf'), ['Host kvm-inc', '  HostName 10.20.0.7', '  Port 2207', ''].join('\n'));
    configPath = join(dir, 'config');
    writeFileSync(
      configPath,
      [
        `Include ${join(dir, 'conf.d', '*.conf')}`,
        // Match host sees the HostName the Include set.
        'Match host 10.20.0.7',
        '  User via-match',
        '  IdentityFile /keys/first',
        '  IdentityFile /keys/second',
        '  ProxyJump hop-a,hop-b:2201',
        '  StrictHostKeyChecking yes',
        '  GlobalKnownHostsFile /etc/ferry-test/global_known_hosts',
        '  UserKnownHostsFile /etc/ferry-test/user_known_hosts',
        '',
      ].join('\n'),
    );
  });

  it('follows Include and Match host, keeps every IdentityFile in order and the whole ProxyJump', async () => {
    const resolved = await resolveSshConfig('kvm-inc', { configPath });
    expect(resolved).toEqual({
      alias: 'kvm-inc',
      hostName: '10.20.0.7',
      user: 'via-match',
      port: 2207,
      identityFiles: ['/keys/first', '/keys/second'],
      proxyJump: 'hop-a,hop-b:2201',
      userKnownHostsFiles: ['/etc/ferry-test/user_known_hosts'],
      globalKnownHostsFiles: ['/etc/ferry-test/global_known_hosts'],
      strictHostKeyChecking: 'yes',
      resolvedBy: 'ssh -G',
    });
    expect(parseProxyJump(resolved.proxyJump ?? '')).toEqual([
      { user: undefined, host: 'hop-a', port: undefined },
      { user: undefined, host: 'hop-b', port: 2201 },
    ]);
  });

  it('passes -p and -l on, as `ssh -p -l` would', async () => {
    const resolved = await resolveSshConfig('kvm-inc', { configPath, port: 2299, user: 'explicit' });
    expect(resolved).toMatchObject({ port: 2299, user: 'explicit', resolvedBy: 'ssh -G' });
  });

  it('says nothing configured a user when ssh prints the local one', async () => {
    const resolved = await resolveSshConfig('unlisted.example', { configPath });
    expect(resolved).toMatchObject({ hostName: 'unlisted.example', user: undefined, identityFiles: [], resolvedBy: 'ssh -G' });
    expect(userInfo().username).not.toBe('via-match');
  });
});
