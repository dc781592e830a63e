import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SshTransport, type SshTransportOptions } from '../../../src-main/core/ssh/connection.js';
import { addKnownHost, knownHostsName } from '../../../src-main/core/ssh/known-hosts.js';
import { shellCommand } from '../../../src-main/core/ssh/shell.js';
import type { TransportState } from '../../../src-main/core/ssh/transport.js';
import { freePort, TestSshd, type KeyPair } from './sshd-harness.js';
import { rejection } from '../../support/rejection.js';

let sshd: TestSshd;
let clientKey: KeyPair;
let passphraseKey: KeyPair;
let strangerKey: KeyPair;
let work: string;
const open: SshTransport[] = [];

const PASSPHRASE = 'correct horse battery staple';

/** Trusts the test server's current host key through Ferry's own known_hosts. */
async function trustedKnownHosts(name: string): Promise<string> {
  const path = join(work, name, 'known_hosts');
  const [type, base64] = sshd.hostKey.publicLine.split(' ');
  await addKnownHost(path, '127.0.0.1', sshd.port, type ?? '', Buffer.from(base64 ?? '', 'base64'));
  return path;
}

function transport(overrides: Partial<SshTransportOptions> & { knownHosts: string }): SshTransport {
  const { knownHosts, ...rest } = overrides;
  const t = new SshTransport({
    label: 'lab',
    host: '127.0.0.1',
    port: sshd.port,
    username: 'root',
    auth: { identityFile: clientKey.path },
    knownHostsFiles: [{ path: knownHosts, writable: true }],
    keepaliveIntervalMs: 1_000,
    readyTimeoutMs: 10_000,
    backoff: { initialMs: 100, maxMs: 1_000 },
    ...rest,
  });
  open.push(t);
  return t;
}

function recordStates(t: SshTransport): TransportState['kind'][] {
  const seen: TransportState['kind'][] = [];
  t.on('state', (state: TransportState) => seen.push(state.kind));
  return seen;
}

function waitForState(t: SshTransport, kind: TransportState['kind'], timeoutMs = 15_000): Promise<void> {
  if (t.state.kind === kind) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`state never became ${kind}; it is ${t.state.kind}`)), timeoutMs);
    const onState = (state: TransportState) => {
      if (state.kind !== kind) return;
      clearTimeout(timer);
      t.off('state', onState);
      resolve();
    };
    t.on('state', onState);
  });
}


function readAll(stream: Duplex, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= bytes) resolve(Buffer.concat(chunks));
    });
    stream.once('error', reject);
  });
}

function echoServer(listen: (server: Server) => void): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.pipe(socket));
    server.once('listening', () => resolve(server));
    listen(server);
  });
}

beforeAll(async () => {
  sshd = await TestSshd.start();
  work = mkdtempSync(join(tmpdir(), 'ferry-ssh-it-'));
  clientKey = sshd.generateKey('client', 'ed25519');
  passphraseKey = sshd.generateKey('client-passphrase', 'ed25519', PASSPHRASE);
  strangerKey = sshd.generateKey('stranger', 'ed25519');
  sshd.authorize(clientKey);
  sshd.authorize(passphraseKey);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

afterAll(async () => {
  await sshd?.dispose();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('SshTransport against a real sshd', () => {
  it('connects with an identity file and runs commands', async () => {
    const t = transport({ knownHosts: await trustedKnownHosts('basic') });
    const states = recordStates(t);
    await t.connect();
    expect(states).toEqual(['connecting', 'connected']);
    await expect(t.exec('echo out; echo err >&2; exit 3')).resolves.toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    await expect(t.run(shellCommand(['printf', '%s', 'a;reboot $(id)']))).resolves.toBe('a;reboot $(id)');
    await expect(t.run('cat', { stdin: 'from stdin' })).resolves.toBe('from stdin');
  });

  it('rejects run() on a non-zero exit with command, code and stderr', async () => {
    const t = transport({ knownHosts: await trustedKnownHosts('run-fail') });
    const error = await rejection(t.run('echo nope >&2; exit 7'));
    expect(error.code).toBe('remote-command-failed');
    expect(error.details).toEqual({ command: 'echo nope >&2; exit 7', code: 7, stderr: 'nope\n' });
  });

  it('kills a command that overruns its timeout', async () => {
    const t = transport({ knownHosts: await trustedKnownHosts('timeout') });
    const error = await rejection(t.exec('sleep 20', { timeoutMs: 300 }));
    expect(error.code).toBe('timeout');
    await expect(t.run('echo still usable')).resolves.toBe('still usable\n');
  });

  it('runs more concurrent commands than sshd allows sessions', async () => {
    const t = transport({ knownHosts: await trustedKnownHosts('concurrent') });
    const outputs = await Promise.all(Array.from({ length: 12 }, (_, i) => t.run(`sleep 0.1; echo ${i}`)));
    expect(outputs).toEqual(Array.from({ length: 12 }, (_, i) => `${i}\n`));
  });

  it('connects with a passphrase-protected key, and explains a missing passphrase', async () => {
    const knownHosts = await trustedKnownHosts('passphrase');
    const good = transport({ knownHosts, auth: { identityFile: passphraseKey.path, passphrase: PASSPHRASE } });
    await expect(good.run('echo ok')).resolves.toBe('ok\n');

    const missing = transport({ knownHosts, auth: { identityFile: passphraseKey.path } });
    const error = await rejection(missing.connect());
    expect(error.code).toBe('auth-failed');
    expect(error.message).toMatch(/passphrase/);

    const wrong = transport({ knownHosts, auth: { identityFile: passphraseKey.path, passphrase: 'wrong' } });
    expect((await rejection(wrong.connect())).code).toBe('auth-failed');
  });

  it('authenticates through ssh-agent before trying the identity file', async () => {
    const socket = join(work, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(spawnSync('ssh-add', ['-q', clientKey.path], { env: { ...process.env, SSH_AUTH_SOCK: socket } }).status).toBe(0);
      // The identity file is one sshd refuses: success proves the agent's key was used.
      const t = transport({ knownHosts: await trustedKnownHosts('agent'), auth: { agent: socket, identityFile: strangerKey.path } });
      await expect(t.run('echo agent')).resolves.toBe('agent\n');
    } finally {
      agent.kill();
    }
  });

  it('fails with auth-failed (and does not retry) for a key the server does not accept', async () => {
    const t = transport({ knownHosts: await trustedKnownHosts('stranger'), auth: { identityFile: strangerKey.path } });
    const states = recordStates(t);
    const error = await rejection(t.connect());
    expect(error.code).toBe('auth-failed');
    expect(error.hint).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(states).toEqual(['connecting', 'failed']);
    expect((await rejection(t.exec('true'))).code).toBe('auth-failed');
  });

  it('refuses an unknown host key without a callback, naming its fingerprint', async () => {
    const knownHosts = join(work, 'unknown-none', 'known_hosts');
    const t = transport({ knownHosts });
    const error = await rejection(t.connect());
    expect(error.code).toBe('host-key-unknown');
    expect(error.details).toMatchObject({ fingerprint: sshd.hostKey.fingerprint, keyType: 'ssh-ed25519' });
    expect(error.hint).toBeTruthy();
    expect(t.state.kind).toBe('failed');
    expect(() => statSync(knownHosts)).toThrow();
  });

  it('refuses an unknown host key when the user says no', async () => {
    const knownHosts = join(work, 'unknown-no', 'known_hosts');
    const t = transport({ knownHosts, onUnknownHostKey: async () => false });
    expect((await rejection(t.connect())).code).toBe('host-key-unknown');
    expect(() => statSync(knownHosts)).toThrow();
  });

  it('asks about an unknown host key, records it once accepted, and does not ask again', async () => {
    const knownHosts = join(work, 'unknown-yes', 'known_hosts');
    const asked: unknown[] = [];
    const first = transport({
      knownHosts,
      // A slow answer must not trip the handshake timeout: the user may take a while to read.
      readyTimeoutMs: 300,
      onUnknownHostKey: async (info) => {
        asked.push(info);
        await new Promise((resolve) => setTimeout(resolve, 600));
        return true;
      },
    });
    await expect(first.run('echo first')).resolves.toBe('first\n');
    expect(asked).toEqual([{ host: '127.0.0.1', port: sshd.port, keyType: 'ssh-ed25519', fingerprint: sshd.hostKey.fingerprint }]);
    expect(readFileSync(knownHosts, 'utf8')).toContain(`${knownHostsName('127.0.0.1', sshd.port)} ssh-ed25519 `);
    expect(statSync(knownHosts).mode & 0o777).toBe(0o600);

    const second = transport({
      knownHosts,
      onUnknownHostKey: async () => {
        throw new Error('must not be asked again');
      },
    });
    await expect(second.run('echo second')).resolves.toBe('second\n');
  });

  it('reads the user known_hosts without ever writing it', async () => {
    const userFile = await trustedKnownHosts('user-file');
    const before = readFileSync(userFile, 'utf8');
    const ferryFile = join(work, 'user-file-ferry', 'known_hosts');
    const t = new SshTransport({
      label: 'lab',
      host: '127.0.0.1',
      port: sshd.port,
      username: 'root',
      auth: { identityFile: clientKey.path },
      knownHostsFiles: [
        { path: ferryFile, writable: true },
        { path: userFile, writable: false },
      ],
    });
    open.push(t);
    await expect(t.run('echo ok')).resolves.toBe('ok\n');
    expect(readFileSync(userFile, 'utf8')).toBe(before);
    expect(() => statSync(ferryFile)).toThrow();
  });

  it('reports connection refused as connection-failed', async () => {
    const t = transport({ knownHosts: join(work, 'refused', 'known_hosts'), port: await freePort() });
    const error = await rejection(t.connect());
    expect(error.code).toBe('connection-failed');
    expect(error.message).toMatch(/refused/);
    expect(error.hint).toMatch(/sshd/);
  });

  it('opens a remote UNIX socket and echoes bytes through it', async () => {
    const socketPath = join(work, 'echo.sock');
    const server = await echoServer((s) => s.listen(socketPath));
    try {
      const t = transport({ knownHosts: await trustedKnownHosts('unix') });
      const stream = await t.openUnixSocket(socketPath);
      const payload = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256));
      const received = readAll(stream, payload.length);
      stream.write(payload);
      expect((await received).equals(payload)).toBe(true);
      stream.end();
      expect((await rejection(t.openUnixSocket(join(work, 'missing.sock')))).code).toBe('connection-failed');
    } finally {
      server.close();
    }
  });

  it('opens a TCP connection as seen from the host', async () => {
    const server = await echoServer((s) => s.listen(0, '127.0.0.1'));
    try {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const t = transport({ knownHosts: await trustedKnownHosts('tcp') });
      const stream = await t.openTcp('127.0.0.1', port);
      const received = readAll(stream, 5);
      stream.write('hello');
      expect((await received).toString()).toBe('hello');
      stream.end();
    } finally {
      server.close();
    }
  });

  it('writes files atomically with a mode and reads them back', async () => {
    const t = transport({ knownHosts: await trustedKnownHosts('files') });
    const dir = join(work, 'remote-files');
    await t.run(shellCommand(['mkdir', '-p', dir]));
    const path = join(dir, 'vm config.json');
    const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256));
    await t.writeFile(path, data, 0o640);
    expect((await t.readFile(path)).equals(data)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    await t.writeFile(path, 'replaced', 0o600);
    expect((await t.readFile(path)).toString()).toBe('replaced');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect((await t.run(shellCommand(['ls', '-A', dir]))).trim()).toBe('vm config.json');
    expect((await rejection(t.readFile(join(dir, 'missing')))).code).toBe('not-found');
    expect((await rejection(t.writeFile(join(dir, 'no-such-dir', 'x'), 'x'))).code).toBe('not-found');
  });

  it('reaches the target through a ProxyJump host', async () => {
    const knownHosts = await trustedKnownHosts('jump');
    const common = { username: 'root', auth: { identityFile: clientKey.path }, knownHostsFiles: [{ path: knownHosts, writable: true }] };
    const t = transport({
      knownHosts,
      host: '127.0.0.1',
      proxyJump: { label: 'bastion', host: '127.0.0.1', port: sshd.port, ...common },
    });
    await expect(t.run('echo via jump')).resolves.toBe('via jump\n');
  });

  it('goes lost and reconnects when the connection drops; a command in flight fails with connection-lost', async () => {
    const t = transport({ knownHosts: await trustedKnownHosts('drop') });
    await t.connect();
    const states = recordStates(t);
    const inFlight = rejection(t.exec('sleep 30'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sshd.killConnections()).toBeGreaterThan(0);
    expect((await inFlight).code).toBe('connection-lost');
    await waitForState(t, 'connected');
    expect(states[0]).toBe('lost');
    expect(states.at(-1)).toBe('connected');
    await expect(t.run('echo back')).resolves.toBe('back\n');
  });

  it('holds operations while the server is down and resumes once it is back', async () => {
    const t = transport({ knownHosts: await trustedKnownHosts('restart') });
    await t.connect();
    const states = recordStates(t);
    await sshd.stop();
    await waitForState(t, 'lost');
    const pending = t.run('echo after restart');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(states.filter((s) => s === 'lost').length).toBeGreaterThan(1);
    await sshd.restart();
    await expect(pending).resolves.toBe('after restart\n');
    expect(t.state.kind).toBe('connected');
  });

  it('gives up waiting for a reconnection after reconnectWaitMs', async () => {
    const t = transport({ knownHosts: await trustedKnownHosts('wait-bound'), reconnectWaitMs: 500 });
    await t.connect();
    await sshd.stop();
    try {
      await waitForState(t, 'lost');
      const error = await rejection(t.run('true'));
      expect(error.code).toBe('connection-lost');
    } finally {
      await sshd.restart();
    }
  });

  // Runs last: it gives the server a new host key for good.
  it('refuses a changed host key, naming both fingerprints and how to remove the old entry', async () => {
    const knownHosts = await trustedKnownHosts('changed');
    const oldFingerprint = sshd.hostKey.fingerprint;
    const t = transport({ knownHosts, onUnknownHostKey: async () => true });
    await t.connect();
    const states = recordStates(t);

    await sshd.restart({ newHostKey: true });
    await waitForState(t, 'failed');
    expect(states).not.toContain('connected');

    const fresh = transport({ knownHosts, onUnknownHostKey: async () => true });
    const error = await rejection(fresh.connect());
    expect(error.code).toBe('host-key-changed');
    expect(error.message).toContain(oldFingerprint);
    expect(error.message).toContain(sshd.hostKey.fingerprint);
    expect(error.hint).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}'`);
    expect(error.details).toMatchObject({ fingerprint: sshd.hostKey.fingerprint, knownFingerprints: [oldFingerprint] });
  });
});
