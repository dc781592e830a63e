import type { EngineEventName, EngineEvents } from '../core/api/contract.js';

export type EventSink = <E extends EngineEventName>(name: E, payload: EngineEvents[E]) => void;

/**
 * Forwards engine events to a front end, passing at most one migration sample per migration every
 * `intervalMs` (the newest one wins; the last one is always delivered, before that migration's
 * next update so that a final sample never arrives after its report).
 */
export function throttleEvents(sink: EventSink, intervalMs = 250): { push: EventSink; dispose(): void } {
  const lastSent = new Map<string, number>();
  const pending = new Map<string, { payload: EngineEvents['migration-sample']; timer: ReturnType<typeof setTimeout> }>();

  const flush = (id: string): void => {
    const entry = pending.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    pending.delete(id);
    lastSent.set(id, Date.now());
    sink('migration-sample', entry.payload);
  };

  const push: EventSink = (name, payload) => {
    if (name === 'migration-sample') {
      const sample = payload as EngineEvents['migration-sample'];
      const since = Date.now() - (lastSent.get(sample.id) ?? 0);
      const existing = pending.get(sample.id);
      if (existing) {
        existing.payload = sample;
        return;
      }
      if (since >= intervalMs) {
        lastSent.set(sample.id, Date.now());
        sink('migration-sample', sample);
        return;
      }
      const timer = setTimeout(() => flush(sample.id), intervalMs - since);
      pending.set(sample.id, { payload: sample, timer });
      return;
    }
    if (name === 'migration-update') {
      const update = payload as EngineEvents['migration-update'];
      flush(update.id);
      if (['completed', 'failed', 'cancelled'].includes(update.phase)) lastSent.delete(update.id);
    }
    sink(name, payload);
  };

  return {
    push,
    dispose() {
      for (const entry of pending.values()) clearTimeout(entry.timer);
      pending.clear();
    },
  };
}
