import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { createElectronApi } from '../../../src-renderer/src/api/electron.js';
import { checkedEventListener, ENGINE_EVENT_NAMES, isEngineEvent } from '../../../src-renderer/src/api/events.js';
import type { EngineEvent, EngineEvents } from '../../../src-renderer/src/api/types.js';

const hostState: EngineEvent = { name: 'host-state', payload: { host: 'a', state: 'lost', reason: 'timeout' } };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('engine event check', () => {
  it('accepts every event name the contract has', () => {
    for (const name of ENGINE_EVENT_NAMES) expect(isEngineEvent({ name, payload: {} })).toBe(true);
    expect(ENGINE_EVENT_NAMES).toEqual(['host-state', 'migration-sample', 'migration-update', 'evacuation-update', 'inventory', 'console-data', 'console-closed']);
  });

  it('rejects unknown names, a missing payload and values that are not events', () => {
    expect(isEngineEvent({ name: 'vm-exploded', payload: {} })).toBe(false);
    expect(isEngineEvent({ name: 'host-state' })).toBe(false);
    expect(isEngineEvent({ name: 42, payload: {} })).toBe(false);
    expect(isEngineEvent({ event: 'host-state', payload: {} })).toBe(false);
    expect(isEngineEvent('host-state')).toBe(false);
    expect(isEngineEvent(null)).toBe(false);
  });

  it('passes known events on and drops unknown ones with a console warning', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const seen: EngineEvent[] = [];
    const deliver = checkedEventListener((event) => seen.push(event));
    deliver(hostState);
    deliver({ name: 'vm-exploded', payload: {} });
    deliver(undefined);
    expect(seen).toEqual([hostState]);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[0]?.[1]).toEqual({ name: 'vm-exploded', payload: {} });
  });

  it('narrows the payload by name, with no cast', () => {
    const listener = (event: EngineEvent) => {
      if (event.name === 'migration-sample') expectTypeOf(event.payload).toEqualTypeOf<EngineEvents['migration-sample']>();
      else if (event.name === 'evacuation-update') expectTypeOf(event.payload).toEqualTypeOf<EngineEvents['evacuation-update']>();
      else if (event.name === 'host-state') return event.payload.host;
      return null;
    };
    expect(listener(hostState)).toBe('a');
  });
});

describe('Electron api events', () => {
  it('hands the renderer only events it knows, as preload received them', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    let push: (event: unknown) => void = () => undefined;
    const api = createElectronApi({
      shell: 'electron',
      onEvent(listener) {
        push = listener;
        return () => undefined;
      },
    });
    const seen: EngineEvent[] = [];
    api.onEvent((event) => seen.push(event));
    push(hostState);
    push({ name: 'vm-exploded', payload: {} });
    expect(seen).toEqual([hostState]);
  });
});
