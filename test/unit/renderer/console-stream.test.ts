import { describe, expect, it } from 'vitest';
import type { EngineEvent, FerryApi } from '../../../src-renderer/src/api/types.js';
import { ConsoleStream, base64ToBytes, bytesToBase64, overlapLength } from '../../../src-renderer/src/views/vm/console-stream.js';
import { VncChannel } from '../../../src-renderer/src/views/vm/vnc-channel.js';

const ID = '7d0f6a4e-1111-4a4a-8888-123456789abc';
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | ArrayBuffer) => new TextDecoder().decode(data);

/** The layer below the console stream, faked: an API whose consoles.open pushes events before it answers. */
function fakeApi(firstBytes: string[]) {
  const listeners = new Set<(event: EngineEvent) => void>();
  const calls: Array<{ channel: string; input: unknown }> = [];
  const push = (event: EngineEvent) => listeners.forEach((listener) => listener(event));
  const api = {
    kind: 'fake',
    canRememberSecrets: false,
    call: async (channel: string, input: unknown) => {
      calls.push({ channel, input });
      if (channel === 'consoles.open') {
        // Another console's bytes, then this one's, all before the reply.
        push({ name: 'console-data', payload: { id: 'b2c3d4e5-0000-4000-8000-000000000000', data: bytesToBase64(bytes('not mine')) } });
        for (const chunk of firstBytes) push({ name: 'console-data', payload: { id: ID, data: bytesToBase64(bytes(chunk)) } });
        return { id: ID };
      }
      return {};
    },
    onEvent: (listener: (event: EngineEvent) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as FerryApi;
  return { api, calls, push, listeners };
}

describe('console stream (renderer)', () => {
  it('base64 round-trips bytes of every value, in large blocks too', () => {
    const all = new Uint8Array(200_000).map((_, index) => index % 256);
    expect(base64ToBytes(bytesToBase64(all))).toEqual(all);
  });

  it('finds how much of the live start the log tail already showed', () => {
    expect(overlapLength(bytes('boot\nready\n'), bytes('ferry-heartbeat 1\n'))).toBe(0);
    expect(overlapLength(bytes('boot\nferry-heartbeat 1\n'), bytes('ferry-heartbeat 1\nferry-heartbeat 2\n'))).toBe('ferry-heartbeat 1\n'.length);
    expect(overlapLength(bytes('boot\nferry-heartbeat 1\nferry-hea'), bytes('ferry-heartbeat 1\nferry-heartbeat 2\n'))).toBe('ferry-heartbeat 1\nferry-hea'.length);
    expect(overlapLength(bytes(''), bytes('x'))).toBe(0);
    // Too short to tell from chance: kept.
    expect(overlapLength(bytes('login: \r\n'), bytes('\r\nok'))).toBe(0);
  });

  it('keeps bytes that arrived before the reply and hands them over in order; writes and close go to the engine', async () => {
    const { api, calls, listeners } = fakeApi(['RFB 003', '.008\n']);
    const stream = await ConsoleStream.open(api, 'a', 'vm1', 'vnc');
    expect(stream.id).toBe(ID);
    const seen: string[] = [];
    stream.listen({ data: (data) => seen.push(text(data)), closed: () => undefined });
    expect(seen).toEqual(['RFB 003', '.008\n']);
    stream.write(bytes('RFB 003.008\n'));
    expect(calls.at(-1)).toEqual({ channel: 'consoles.write', input: { id: ID, data: bytesToBase64(bytes('RFB 003.008\n')) } });
    stream.close();
    expect(calls.at(-1)).toEqual({ channel: 'consoles.close', input: { id: ID } });
    expect(listeners.size).toBe(0);
  });

  it('the VNC channel looks like an open WebSocket to noVNC and carries the stream both ways', async () => {
    const { api, calls, push } = fakeApi(['RFB 003.008\n']);
    const channel = new VncChannel(await ConsoleStream.open(api, 'a', 'vm1', 'vnc'));
    // noVNC's own check: these names among the object's keys and its prototype's.
    const names = [...Object.keys(channel), ...Object.getOwnPropertyNames(Object.getPrototypeOf(channel))];
    for (const name of ['send', 'close', 'binaryType', 'onerror', 'onmessage', 'onopen', 'protocol', 'readyState']) expect(names).toContain(name);
    expect(channel.readyState).toBe(1);
    const received: string[] = [];
    channel.onmessage = (event) => received.push(text(event.data));
    await Promise.resolve();
    expect(received).toEqual(['RFB 003.008\n']);
    push({ name: 'console-data', payload: { id: ID, data: bytesToBase64(bytes('\x01\x01')) } });
    expect(received).toEqual(['RFB 003.008\n', '\x01\x01']);
    const buffer = new Uint8Array([82, 70, 66]);
    channel.send(buffer);
    buffer[0] = 0;
    expect(base64ToBytes((calls.at(-1)?.input as { data: string }).data)).toEqual(new Uint8Array([82, 70, 66]));
    let closedWith = '';
    channel.onclose = (event) => (closedWith = event.reason);
    push({ name: 'console-closed', payload: { id: ID, reason: 'The VM stopped or closed the console' } });
    expect(channel.readyState).toBe(3);
    expect(closedWith).toBe('The VM stopped or closed the console');
  });
});
