import { describe, expect, it } from 'vitest';
import type { MigrationSummary } from '../../../src-main/core/api/types.js';
import { quitQuestion } from '../../../src-main/electron/quit-question.js';

const migration = (vm: string, phase: MigrationSummary['phase']): MigrationSummary => ({ id: vm, vm, from: 'a', to: 'b', mode: 'live', phase, startedAt: '2026-12-01T10:00:00.000Z', committed: false, report: null });

describe('quitQuestion', () => {
  it('asks nothing when no migration runs (ended ones, in doubt included, do not count)', () => {
    expect(quitQuestion([])).toBeNull();
    expect(quitQuestion([migration('v1', 'completed'), migration('v2', 'failed'), migration('v3', 'cancelled'), migration('v4', 'in-doubt')])).toBeNull();
  });

  it('names the running migrations, with staying open as the first (default) answer', () => {
    const one = quitQuestion([migration('web1', 'memory'), migration('old', 'completed')]);
    expect(one?.message).toBe('A migration is still running: web1 (a → b).');
    expect(one?.buttons).toEqual(['Keep Ferry open', 'Quit anyway']);
    expect(one?.detail).toMatch(/until Ferry starts again and settles them/);
    expect(quitQuestion([migration('web1', 'preflight'), migration('web2', 'switchover')])?.message).toBe('2 migrations are still running: web1 (a → b), web2 (a → b).');
  });
});
