import type { MigrationSummary } from '../core/api/types.js';

const FINAL_PHASES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled', 'in-doubt']);

export interface QuitQuestion {
  message: string;
  detail: string;
  buttons: [stay: string, quit: string];
}

/**
 * What to ask before the window closes while migrations run, or null when nothing runs. Stay is
 * the first (default) button, so Enter or Escape never abandons a migration.
 */
export function quitQuestion(migrations: MigrationSummary[]): QuitQuestion | null {
  const running = migrations.filter((m) => !FINAL_PHASES.has(m.phase));
  if (running.length === 0) return null;
  const names = running.map((m) => `${m.vm} (${m.from} → ${m.to})`).join(', ');
  return {
    message: running.length === 1 ? `A migration is still running: ${names}.` : `${running.length} migrations are still running: ${names}.`,
    detail: 'Quitting now stops Ferry following them: they are left unfinished on the hosts until Ferry starts again and settles them. Wait for them to end, or cancel them first.',
    buttons: ['Keep Ferry open', 'Quit anyway'],
  };
}
