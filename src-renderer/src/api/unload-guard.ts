import type { MigrationSummary } from '../../../src-main/core/api/types';
import type { FerryApi } from './types';

const FINAL_PHASES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled', 'in-doubt']);

/**
 * Web only: while a migration this window started still runs, closing or reloading the tab asks
 * first (the browser's own prompt). The guard lifts itself when the engine reports the migration
 * over. Electron's main process asks on quit instead, and a beforeunload there would cancel the
 * close without asking, so nothing is installed for it.
 */
export function guardUnloadDuring(api: FerryApi, summary: MigrationSummary, target: Window = window): void {
  if (api.kind !== 'web' || FINAL_PHASES.has(summary.phase)) return;
  const ask = (event: BeforeUnloadEvent) => {
    event.preventDefault();
    // Older Chromium asks only when returnValue is set.
    event.returnValue = `The migration of ${summary.vm} is still running.`;
  };
  target.addEventListener('beforeunload', ask);
  const stop = api.onEvent((event) => {
    if (event.name === 'migration-update' && event.payload.id === summary.id && FINAL_PHASES.has(event.payload.phase)) {
      target.removeEventListener('beforeunload', ask);
      stop();
    }
  });
}
