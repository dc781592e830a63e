import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SshTransport, type SshTransportOptions } from '../../../src-main/core/ssh/connection.js';
import type { UnknownHostKeyInfo } from '../../../src-main/core/ssh/host-key-policy.js';
import { knownHostsName } from '../../../src-main/core/ssh/known-hosts.js';
import { TestSshd, type KeyPair } from './sshd-harness.js';
import { rejection } from '../../support/rejection.js';

/** Serves both an ECDSA and an Ed25519 host key; ssh2 prefers Ed25519 when offered both. */
let twoKeys: TestSshd;
/** Serves only an Ed25519 host key. */
let ed25519Only: TestSshd;
let clientKey: KeyPair;
let work: string;
const open: SshTransport[] = [];

function keyOfType(sshd: TestSshd, type: string): KeyPair {
  const key = sshd.hostKeys.find((candidate) => candidate.publicLine.startsWith(`${type} `));
  if (key === undefined) throw new Error(`the test sshd has no ${type} host key`);
  return key;
}

/** A known_hosts file holding exactly one line for `sshd`, with `key`'s public half. */
function knownHostsWith(name: string, sshd: TestSshd, key: KeyPair): { path: string; text: string } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const [type, base64] = key.publicLine.split(' ');
  const text = `${knownHostsName('127.0.0.1', sshd.port)} ${type} ${base64}\n`;
  const path = join(dir, 'known_hosts');
  writeFileSync(path, text);
  return { path, text };
}

/** What the engine does for a host added with --accept-new-host-key: say yes to any unknown key. */
function acceptNew(asked: UnknownHostKeyInfo[]): SshTransportOptions['onUnknownHostKey'] {
  return async (info) => {
    asked.push(info);
    return true;
  };
}

function transport(sshd: TestSshd, overrides: Partial<SshTransportOptions> & Pick<SshTransportOptions, 'knownHostsFiles'>): SshTransport {
  const t = new SshTransport({
    label: 'lab',
    host: '127.0.0.1',
    port: sshd.port,
    username: 'root',
    auth: { identityFile: clientKey.path },
    readyTimeoutMs: 10_000,
    backoff: { initialMs: 100, maxMs: 1_000 },
    ...overrides,
  });
  open.push(t);
  return t;
}


beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ferry-host-key-types-'));
  twoKeys = await TestSshd.start({ hostKeyTypes: ['ecdsa', 'ed25519'] });
  ed25519Only = await TestSshd.start({ hostKeyTypes: ['ed25519'] });
  clientKey = twoKeys.generateKey('client', 'ed25519');
  twoKeys.authorize(clientKey);
  ed25519Only.authorize(clientKey);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

afterAll(async () => {
  await twoKeys?.dispose();
  await ed25519Only?.dispose();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('host key types of a known host', () => {
  it('uses the known ECDSA key of a server that also has an Ed25519 key, and records nothing new', async () => {
    const known = knownHostsWith('ecdsa-known', twoKeys, keyOfType(twoKeys, 'ecdsa-sha2-nistp256'));
    const asked: UnknownHostKeyInfo[] = [];
    const t = transport(twoKeys, { knownHostsFiles: [{ path: known.path, writable: true }], onUnknownHostKey: acceptNew(asked) });

    await expect(t.run('echo via-ecdsa')).resolves.toBe('via-ecdsa\n');

    // Connected without a prompt: the only key that could have been verified is the ECDSA one.
    expect(asked).toEqual([]);
    expect(readFileSync(known.path, 'utf8')).toBe(known.text);
  });

  it('does the same when the ECDSA key is only in the read-only user known_hosts', async () => {
    const user = knownHostsWith('ecdsa-user', twoKeys, keyOfType(twoKeys, 'ecdsa-sha2-nistp256'));
    const ferryKnownHosts = join(work, 'ecdsa-user', 'ferry_known_hosts');
    const asked: UnknownHostKeyInfo[] = [];
    const t = transport(twoKeys, {
      knownHostsFiles: [{ path: ferryKnownHosts, writable: true }, { path: user.path, writable: false }],
      onUnknownHostKey: acceptNew(asked),
    });

    await expect(t.run('echo via-user-file')).resolves.toBe('via-user-file\n');

    expect(asked).toEqual([]);
    expect(existsSync(ferryKnownHosts)).toBe(false);
    expect(readFileSync(user.path, 'utf8')).toBe(user.text);
  });

  it('refuses a server that now presents only an Ed25519 key when its ECDSA key is on record, saying what to do', async () => {
    const oldEcdsa = ed25519Only.generateKey('replaced-ecdsa-host-key', 'ecdsa');
    const known = knownHostsWith('ecdsa-replaced', ed25519Only, oldEcdsa);
    const asked: UnknownHostKeyInfo[] = [];
    const t = transport(ed25519Only, { knownHostsFiles: [{ path: known.path, writable: true }], onUnknownHostKey: acceptNew(asked) });

    const error = await rejection(t.connect());

    const name = knownHostsName('127.0.0.1', ed25519Only.port);
    expect(error.code).toBe('host-key-changed');
    expect(error.message).toContain(name);
    expect(error.message).toContain('ecdsa-sha2-nistp256');
    expect(error.message).toContain('ssh-ed25519');
    expect(error.message).toContain(ed25519Only.hostKey.fingerprint);
    expect(error.hint).toContain(`ssh-keygen -R '${name}' -f '${known.path}'`);
    expect(error.details).toMatchObject({ keyType: 'ssh-ed25519', fingerprint: ed25519Only.hostKey.fingerprint, knownKeyTypes: ['ecdsa-sha2-nistp256'] });
    expect(asked).toEqual([]);
    expect(readFileSync(known.path, 'utf8')).toBe(known.text);
    // A refused host key is final: no reconnect loop.
    expect(t.state.kind).toBe('failed');
  });

  it('still asks about, and records, the key of a host with nothing on record', async () => {
    const knownHosts = join(work, 'fresh', 'known_hosts');
    const asked: UnknownHostKeyInfo[] = [];
    const t = transport(ed25519Only, { knownHostsFiles: [{ path: knownHosts, writable: true }], onUnknownHostKey: acceptNew(asked) });

    await expect(t.run('echo fresh')).resolves.toBe('fresh\n');

    expect(asked.map((info) => info.keyType)).toEqual(['ssh-ed25519']);
    expect(readFileSync(knownHosts, 'utf8')).toContain(ed25519Only.hostKey.publicLine.split(' ')[1]);
  });
});

describe('a passphrase-protected identity file without its passphrase', () => {
  let agent: ChildProcess | undefined;
  let agentSocket: string;
  let encryptedKey: KeyPair;

  beforeAll(async () => {
    encryptedKey = twoKeys.generateKey('id_ed25519_encrypted', 'ed25519', 'not given to ferry');
    agentSocket = join(work, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(agentSocket); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(spawnSync('ssh-add', ['-q', clientKey.path], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } }).status).toBe(0);
  });

  afterAll(() => {
    agent?.kill();
  });

  it('is skipped when Ferry picked it by default, and the agent authenticates', async () => {
    const known = knownHostsWith('default-key', twoKeys, keyOfType(twoKeys, 'ecdsa-sha2-nistp256'));
    const t = transport(twoKeys, { knownHostsFiles: [{ path: known.path, writable: true }], auth: { agent: agentSocket, identityFile: encryptedKey.path, identityFileIsDefault: true } });

    await expect(t.run('echo agent')).resolves.toBe('agent\n');
  });

  it('fails asking for the passphrase when Ferry picked it by default and there is nothing else to try', async () => {
    const known = knownHostsWith('default-key-alone', twoKeys, keyOfType(twoKeys, 'ecdsa-sha2-nistp256'));
    const t = transport(twoKeys, { knownHostsFiles: [{ path: known.path, writable: true }], auth: { identityFile: encryptedKey.path, identityFileIsDefault: true } });

    const error = await rejection(t.connect());

    expect(error.code).toBe('auth-failed');
    expect(error.message).toContain(`${encryptedKey.path} is protected by a passphrase`);
    expect(error.hint).toMatch(/passphrase.*ssh-add/);
  });

  it('fails asking for the passphrase when the user named it, even with an agent', async () => {
    const known = knownHostsWith('named-key', twoKeys, keyOfType(twoKeys, 'ecdsa-sha2-nistp256'));
    const t = transport(twoKeys, { knownHostsFiles: [{ path: known.path, writable: true }], auth: { agent: agentSocket, identityFile: encryptedKey.path } });

    const error = await rejection(t.connect());

    expect(error.code).toBe('auth-failed');
    expect(error.message).toContain(`${encryptedKey.path} is protected by a passphrase`);
  });
});
