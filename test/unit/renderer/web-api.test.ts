// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EngineEvent } from '../../../src-renderer/src/api/types.js';
import { createWebApi } from '../../../src-renderer/src/api/web.js';

/** Stands in for the browser's WebSocket (the layer below): records the URL, never connects. */
class RecordingWebSocket {
  static readonly OPEN = 1;
  static urls: string[] = [];
  static last: RecordingWebSocket | null = null;
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(url: string) {
    RecordingWebSocket.urls.push(url);
    RecordingWebSocket.last = this;
  }
  send(): void {}
  close(): void {}
}

beforeEach(() => {
  RecordingWebSocket.urls = [];
  vi.stubGlobal('WebSocket', RecordingWebSocket);
});
afterEach(() => {
  vi.unstubAllGlobals();
  history.replaceState(null, '', '/');
});

describe('web API token handling', () => {
  it('takes the token out of the address bar and history entry, keeping the rest of the address', () => {
    history.replaceState({ keep: 1 }, '', '/index.html?token=s3cret&view=hosts#storage');
    const lengthBefore = history.length;
    createWebApi();
    expect(location.search).toBe('?view=hosts');
    expect(location.pathname).toBe('/index.html');
    expect(location.hash).toBe('#storage');
    expect(location.href).not.toContain('s3cret');
    expect(history.length).toBe(lengthBefore);
    expect(history.state).toEqual({ keep: 1 });
  });

  it('opens the API socket without the token in its URL (the HttpOnly cookie carries it)', () => {
    history.replaceState(null, '', '/?token=s3cret');
    createWebApi();
    expect(RecordingWebSocket.urls).toEqual([`ws://${location.host}/api`]);
  });

  it('leaves an address without a token alone', () => {
    history.replaceState(null, '', '/?view=hosts');
    createWebApi();
    expect(location.search).toBe('?view=hosts');
  });
});

describe('web API events', () => {
  it('hands listeners the event object of each event frame, and drops frames with unknown event names', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const api = createWebApi('ws://127.0.0.1:1/api');
    const seen: EngineEvent[] = [];
    api.onEvent((event) => seen.push(event));
    const frame = (message: unknown) => RecordingWebSocket.last?.onmessage?.({ data: JSON.stringify(message) });
    const update: EngineEvent = { name: 'host-state', payload: { host: 'a', state: 'connected' } };
    frame({ event: update });
    frame({ event: { name: 'vm-exploded', payload: {} } });
    frame({ event: 'host-state', payload: { host: 'a', state: 'connected' } });
    expect(seen).toEqual([update]);
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });
});
