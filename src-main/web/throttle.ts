import type { EngineEvent } from '../core/api/contract.js';

export type EventSink = (event: EngineEvent) => void;

/**
 * Forwards engine events to a front end, passing at most one migration sample per migration every
 * `intervalMs` (the newest one wins; the last one is always delivered, before that migration's
 * next update so that a final sample never arrives after its report).
 */
export function throttleEvents(sink: EventSink, intervalMs = 250): { push: EventSink; dispose(): void } {
  const lastSent = new Map<string, number>();
  const pending = new Map<string, { event: EngineEvent<'migration-sample'>; timer: ReturnType<typeof setTimeout> }>();

  const flush = (id: string): void => {
    const entry = pending.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    pending.delete(id);
    lastSent.set(id, Date.now());
    sink(entry.event);
  };

  const push: EventSink = (event) => {
    if (event.name === 'migration-sample') {
      const { id } = event.payload;
      const since = Date.now() - (lastSent.get(id) ?? 0);
      const existing = pending.get(id);
      if (existing) {
        existing.event = event;
        return;
      }
      if (since >= intervalMs) {
        lastSent.set(id, Date.now());
        sink(event);
        return;
      }
      const timer = setTimeout(() => flush(id), intervalMs - since);
      pending.set(id, { event, timer });
      return;
    }
    if (event.name === 'migration-update') {
      const update = event.payload;
      flush(update.id);
      if (['completed', 'failed', 'cancelled', 'in-doubt'].includes(update.phase)) lastSent.delete(update.id);
    }
    sink(event);
  };

  return {
    push,
    dispose() {
      for (const entry of pending.values()) clearTimeout(entry.timer);
      pending.clear();
    },
  };
}
