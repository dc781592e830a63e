import type { EngineEvent, EngineEventName } from './types';

/** The event names the engine pushes, as values, so events arriving from outside can be checked. */
export const ENGINE_EVENT_NAMES = ['host-state', 'migration-sample', 'migration-update', 'evacuation-update', 'inventory', 'console-data', 'console-closed'] as const satisfies readonly EngineEventName[];

type Missing = Exclude<EngineEventName, (typeof ENGINE_EVENT_NAMES)[number]>;
// If this line errors, an event was added to the contract and not here.
export const eventListIsComplete: [Missing] extends [never] ? true : Missing = true;

const knownNames: ReadonlySet<string> = new Set(ENGINE_EVENT_NAMES);

/**
 * True for an event this renderer knows: an object with a known `name` and a `payload`. The payload
 * itself is trusted, as it comes from our own engine over our own IPC or WebSocket; the name is what
 * can drift when a newer engine pushes an event this renderer was not built with.
 */
export function isEngineEvent(value: unknown): value is EngineEvent {
  if (typeof value !== 'object' || value === null || !('payload' in value) || !('name' in value)) return false;
  return typeof value.name === 'string' && knownNames.has(value.name);
}

/** Passes known events to `listener`; anything else is dropped with a console warning. */
export function checkedEventListener(listener: (event: EngineEvent) => void): (value: unknown) => void {
  return (value) => {
    if (isEngineEvent(value)) listener(value);
    else console.warn('Ferry: dropped an engine event this window does not know', value);
  };
}
