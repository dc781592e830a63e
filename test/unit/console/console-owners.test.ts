import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { FerryEngine } from '../../../src-main/core/engine.js';
import { registerIpc, type IpcEventLike, type IpcMainLike, type IpcResult } from '../../../src-main/electron/ipc.js';
import { startWebServer, WS_PATH, type RunningWebServer } from '../../../src-main/web/server.js';

// The front ends must tell the engine who is calling, and close that caller's consoles when it goes.
let home: string;
let rendererDir: string;
let engine: FerryEngine;
let web: RunningWebServer;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'ferry-cons-home-'));
  rendererDir = mkdtempSync(join(tmpdir(), 'ferry-cons-renderer-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Ferry</title>');
  engine = new FerryEngine({ home, userKnownHosts: null });
  web = await startWebServer({ engine, rendererDir, port: 0 });
});

afterAll(async () => {
  await web?.close();
  await engine?.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(rendererDir, { recursive: true, force: true });
});

describe('console owners', () => {
  it('the web bridge calls with one owner per page and closes its consoles when the page disconnects', async () => {
    const calls = vi.spyOn(engine, 'call');
    const closeOwner = vi.spyOn(engine.consoles, 'closeOwner');
    const ws = new WebSocket(`ws://127.0.0.1:${web.port}${WS_PATH}?token=${web.token}`, { origin: web.origin });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const reply = new Promise((resolve) => ws.once('message', resolve));
    ws.send(JSON.stringify({ id: 1, channel: 'hosts.list', input: {} }));
    await reply;
    const owner = (calls.mock.calls[0]?.[2] as { owner: string } | undefined)?.owner;
    expect(owner).toMatch(/^web-\d+$/);
    ws.close();
    await vi.waitFor(() => expect(closeOwner).toHaveBeenCalledWith(owner));
    calls.mockRestore();
    closeOwner.mockRestore();
  });

  it('Electron IPC calls with one owner per window and closes its consoles when it is destroyed or reloads', async () => {
    const handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => Promise<IpcResult>>();
    const fakeIpc: IpcMainLike = { handle: (channel, listener) => handlers.set(channel, listener), removeHandler: (channel) => handlers.delete(channel) };
    const unregister = registerIpc(fakeIpc, { engine, isTrustedSender: () => true });
    const listeners = new Map<string, Array<() => void>>();
    const sender = { id: 7, on: (event: string, listener: () => void) => listeners.set(event, [...(listeners.get(event) ?? []), listener]) };
    const closeOwner = vi.spyOn(engine.consoles, 'closeOwner');
    await handlers.get('hosts.list')?.({ senderFrame: { url: 'file:///x' }, sender }, {});
    await handlers.get('hosts.list')?.({ senderFrame: { url: 'file:///x' }, sender }, {});
    expect(listeners.get('destroyed')).toHaveLength(1);
    listeners.get('did-start-loading')?.forEach((l) => l());
    expect(closeOwner).toHaveBeenLastCalledWith('window-7');
    closeOwner.mockClear();
    listeners.get('destroyed')?.forEach((l) => l());
    expect(closeOwner).toHaveBeenCalledWith('window-7');
    closeOwner.mockRestore();
    unregister();
  });
});
