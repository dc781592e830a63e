import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalTransport } from '../../../src-main/core/ssh/local.js';
import { shellCommand } from '../../../src-main/core/ssh/shell.js';
import { rejection } from '../../support/rejection.js';

let dir: string;
const local = new LocalTransport();


beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-local-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LocalTransport', () => {
  it('is connected from the start', () => {
    expect(local.state).toEqual({ kind: 'connected' });
  });

  it('runs commands through sh -c with stdin, exit codes and stderr', async () => {
    await expect(local.exec('echo out; echo err >&2; exit 4')).resolves.toEqual({ code: 4, stdout: 'out\n', stderr: 'err\n' });
    await expect(local.run('cat', { stdin: Buffer.from('piped') })).resolves.toBe('piped');
    await expect(local.run(shellCommand(['printf', '%s', '$(id); `id`']))).resolves.toBe('$(id); `id`');
    const error = await rejection(local.run('echo bad >&2; exit 2'));
    expect(error.code).toBe('remote-command-failed');
    expect(error.details).toEqual({ command: 'echo bad >&2; exit 2', code: 2, stderr: 'bad\n' });
    expect((await rejection(local.exec('sleep 20', { timeoutMs: 200 }))).code).toBe('timeout');
  });

  it('opens UNIX sockets and TCP ports', async () => {
    const socketPath = join(dir, 'echo.sock');
    const server: Server = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const stream = await local.openUnixSocket(socketPath);
      const echoed = new Promise<string>((resolve) => stream.once('data', (chunk: Buffer) => resolve(chunk.toString())));
      stream.write('ping');
      expect(await echoed).toBe('ping');
      stream.end();
      expect((await rejection(local.openUnixSocket(join(dir, 'missing.sock')))).code).toBe('connection-failed');
    } finally {
      server.close();
    }
    const tcp: Server = createServer((socket) => socket.end('tcp ok'));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    try {
      const address = tcp.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const stream = await local.openTcp('127.0.0.1', port);
      const received = await new Promise<string>((resolve) => stream.once('data', (chunk: Buffer) => resolve(chunk.toString())));
      expect(received).toBe('tcp ok');
    } finally {
      tcp.close();
    }
  });

  it('writes files atomically with the requested mode, replacing the old file', async () => {
    const path = join(dir, 'state.json');
    writeFileSync(path, 'old contents that are longer');
    const before = statSync(path).ino;
    await local.writeFile(path, '{"new":true}', 0o600);
    await expect(local.readFile(path)).resolves.toEqual(Buffer.from('{"new":true}'));
    // rename() puts a new inode in place: readers see the old file or the new one, never a mix.
    expect(statSync(path).ino).not.toBe(before);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await local.writeFile(path, 'x', 0o755);
    expect(statSync(path).mode & 0o777).toBe(0o755);
    expect(readdirSync(dir).filter((name) => name.includes('ferry-'))).toEqual([]);
    expect((await rejection(local.readFile(join(dir, 'missing')))).code).toBe('not-found');
    expect((await rejection(local.writeFile(join(dir, 'nope', 'x'), 'x'))).code).toBe('not-found');
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses work after close', async () => {
    const closing = new LocalTransport('closing');
    await closing.close();
    expect(closing.state.kind).toBe('closed');
    await expect(closing.exec('true')).rejects.toMatchObject({ code: 'connection-lost' });
  });
});
