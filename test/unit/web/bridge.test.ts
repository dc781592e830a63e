import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { EngineEvent } from '../../../src-main/core/api/contract.js';
import type { MigrationSample, MigrationSummary } from '../../../src-main/core/api/types.js';
import { FerryEngine } from '../../../src-main/core/engine.js';
import { startWebServer, WS_PATH, type RunningWebServer } from '../../../src-main/web/server.js';
import { throttleEvents } from '../../../src-main/web/throttle.js';

let home: string;
let rendererDir: string;
let engine: FerryEngine;
let web: RunningWebServer;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'ferry-web-home-'));
  rendererDir = mkdtempSync(join(tmpdir(), 'ferry-web-renderer-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Ferry</title>');
  engine = new FerryEngine({ home, userKnownHosts: null });
  web = await startWebServer({ engine, rendererDir, port: 0, sampleIntervalMs: 50 });
});

afterAll(async () => {
  await web?.close();
  await engine?.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(rendererDir, { recursive: true, force: true });
});

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: web.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens the API socket; resolves with it, or rejects with the HTTP status the upgrade got. */
function openSocket(options: { token?: string | null; cookie?: string; origin?: string | null; host?: string } = {}): Promise<WebSocket> {
  const token = options.token === undefined ? web.token : options.token;
  const url = `ws://127.0.0.1:${web.port}${WS_PATH}${token ? `?token=${token}` : ''}`;
  const headers: Record<string, string> = {};
  if (options.cookie) headers['cookie'] = options.cookie;
  if (options.host) headers['host'] = options.host;
  const origin = options.origin === undefined ? web.origin : options.origin;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, ...(origin === null ? {} : { origin }) });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

let nextId = 1;
function call(ws: WebSocket, channel: string, input: unknown): Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string; hint?: string } }> {
  const id = nextId++;
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as { id?: number };
      if (message.id !== id) return;
      ws.off('message', onMessage);
      resolve(message as never);
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ id, channel, input }));
  });
}

describe('web server', () => {
  it('prints a URL on 127.0.0.1 with the token', () => {
    expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  });

  it('refuses HTTP requests without the token or with a wrong one', async () => {
    expect((await get('/')).status).toBe(403);
    expect((await get('/index.html?token=wrong')).status).toBe(403);
    expect((await get('/', { cookie: 'ferry_token=wrong' })).status).toBe(403);
  });

  it('serves the renderer with the token and sets the cookie', async () => {
    const first = await get(`/?token=${web.token}`);
    expect(first.status).toBe(200);
    expect(first.body).toContain('<title>Ferry</title>');
    expect(String(first.headers['set-cookie'])).toContain(`ferry_token=${web.token}`);
    expect(String(first.headers['set-cookie'])).toContain('HttpOnly');
    expect(String(first.headers['set-cookie'])).toContain('SameSite=Strict');
    expect(String(first.headers['set-cookie'])).toContain('Path=/');
    expect((await get('/index.html', { cookie: `ferry_token=${web.token}` })).status).toBe(200);
  });

  it('never serves files outside the renderer', async () => {
    const res = await get(`/..%2f..%2fetc%2fpasswd?token=${web.token}`);
    expect(res.status).toBe(404);
  });

  it('refuses requests for another Host (DNS rebinding)', async () => {
    expect((await get(`/?token=${web.token}`, { host: `evil.example:${web.port}` })).status).toBe(421);
  });
});

describe('WebSocket bridge', () => {
  it('refuses the upgrade without a token', async () => {
    await expect(openSocket({ token: null })).rejects.toThrow('HTTP 403');
    await expect(openSocket({ token: 'x'.repeat(32) })).rejects.toThrow('HTTP 403');
  });

  it('refuses the upgrade from another origin or without one', async () => {
    await expect(openSocket({ origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(openSocket({ origin: `http://localhost:${web.port + 1}` })).rejects.toThrow('HTTP 403');
    await expect(openSocket({ origin: `https://127.0.0.1:${web.port}` })).rejects.toThrow('HTTP 403');
    await expect(openSocket({ origin: `http://127.0.0.1:${web.port}.evil.example` })).rejects.toThrow('HTTP 403');
    await expect(openSocket({ origin: null })).rejects.toThrow('HTTP 403');
  });

  it('accepts as Origin exactly the hosts the Host check serves the page to', async () => {
    const candidates = [`127.0.0.1:${web.port}`, `localhost:${web.port}`, `[::1]:${web.port}`, `evil.example:${web.port}`, `localhost:${web.port + 1}`];
    for (const host of candidates) {
      const pageServed = (await get(`/?token=${web.token}`, { host })).status === 200;
      const socketOpened = await openSocket({ host, origin: `http://${host}` }).then(
        (ws) => {
          ws.close();
          return true;
        },
        () => false,
      );
      expect({ host, socketOpened }).toEqual({ host, socketOpened: pageServed });
    }
    // The page opened as http://localhost:PORT must reach its API (it was refused before).
    const fromLocalhost = await openSocket({ host: `localhost:${web.port}`, origin: `http://localhost:${web.port}`, token: null, cookie: `ferry_token=${web.token}` });
    expect((await call(fromLocalhost, 'hosts.list', {})).ok).toBe(true);
    fromLocalhost.close();
  });

  it('accepts the cookie token and runs engine calls', async () => {
    const ws = await openSocket({ token: null, cookie: `ferry_token=${web.token}` });
    const reply = await call(ws, 'hosts.list', {});
    expect(reply).toMatchObject({ ok: true, value: [] });
    ws.close();
  });

  it('validates input through the engine and returns FerryError JSON', async () => {
    const ws = await openSocket();
    const bad = await call(ws, 'hosts.add', { transport: 'ssh', name: '-oProxyCommand=x', address: 'a b' });
    expect(bad.ok).toBe(false);
    expect(bad.error?.code).toBe('invalid-input');
    expect(bad.error?.message).toContain('name');
    expect(bad.error?.hint).toBeTruthy();
    const unknown = await call(ws, 'fs.readFile', { path: '/etc/passwd' });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    const missing = await call(ws, 'hosts.info', { host: 'nope' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not-found' } });
    ws.close();
  });

  it('answers malformed frames with an error instead of dropping the socket', async () => {
    const ws = await openSocket();
    const reply = await new Promise<{ ok: boolean; error: { code: string } }>((resolve) => {
      ws.once('message', (data) => resolve(JSON.parse(data.toString()) as never));
      ws.send('{not json');
    });
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect((await call(ws, 'hosts.list', {})).ok).toBe(true);
    ws.close();
  });

  it('pushes engine events to the socket', async () => {
    const ws = await openSocket();
    const received = new Promise<unknown>((resolve) => {
      ws.on('message', (data) => {
        const message: unknown = JSON.parse(data.toString());
        if (typeof message === 'object' && message !== null && 'event' in message) resolve(message);
      });
    });
    engine.publish('host-state', { host: 'x', state: 'connected' });
    expect(await received).toEqual({ event: { name: 'host-state', payload: { host: 'x', state: 'connected' } } });
    ws.close();
  });
});

describe('throttleEvents', () => {
  it('passes at most one sample per interval per migration, keeping the newest and flushing before updates', () => {
    vi.useFakeTimers();
    try {
      const seen: EngineEvent[] = [];
      const throttle = throttleEvents((event) => seen.push(event), 250);
      const sample = (id: string, t: number): EngineEvent => ({ name: 'migration-sample', payload: { id, sample: { t } as unknown as MigrationSample } });
      throttle.push(sample('a', 0));
      throttle.push(sample('a', 50));
      throttle.push(sample('a', 100));
      throttle.push(sample('b', 0));
      expect(seen).toEqual([sample('a', 0), sample('b', 0)]);
      vi.advanceTimersByTime(250);
      expect(seen).toEqual([sample('a', 0), sample('b', 0), sample('a', 100)]);
      throttle.push(sample('a', 300));
      throttle.push({ name: 'migration-update', payload: { id: 'a', phase: 'completed' } as MigrationSummary });
      expect(seen.slice(-2).map((event) => event.name)).toEqual(['migration-sample', 'migration-update']);
      expect(seen.at(-2)).toEqual(sample('a', 300));
      throttle.push({ name: 'host-state', payload: { host: 'h', state: 'lost' } });
      expect(seen.at(-1)).toEqual({ name: 'host-state', payload: { host: 'h', state: 'lost' } });
      throttle.dispose();
    } finally {
      vi.useRealTimers();
    }
  });
});
