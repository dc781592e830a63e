import { articleRun } from '../baselines/article.js';
import { tunedRun } from '../baselines/tuned.js';
import { STANDARD_GUEST } from '../guest-setup.js';
import type { BenchContext, ScenarioResult } from '../types.js';
import { repeatInterleaved, scenarioResult } from './common.js';
import { ferryRun } from './ferry-run.js';

export const DIRTY_MIB = 96;
export const DIRTY_BANDWIDTH_MIBPS = 16;
/** How long a migration that cannot converge is left running before it is cancelled. */
export const NO_CONVERGE_BUDGET_MS = 20_000;
const CONVERGE_BUDGET_MS = 90_000;

/**
 * 4. A guest rewriting 96 MiB of RAM, over a link capped at 16 MiB/s: the 300 ms default
 * downtime allows ~5 MiB at the switch-over, so plain pre-copy cannot converge. Ferry is run as
 * is (it reports "not converging" and keeps going until cancelled), with auto-converge, and with
 * postcopy switched on when Ferry says it does not converge.
 */
export async function dirtyScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const spec = { ...STANDARD_GUEST, shared: true, dirtyMiB: DIRTY_MIB };
  const cap = { bandwidthMiBps: DIRTY_BANDWIDTH_MIBPS };
  const settleMs = 6000;
  const runs = await repeatInterleaved(ctx, 'dirty', [
    ['ferry', () => ferryRun(ctx, { variant: 'ferry', kind: 'dirty', spec, mode: 'live', options: cap, budgetMs: NO_CONVERGE_BUDGET_MS, settleMs })],
    ['ferry-autoconverge', () => ferryRun(ctx, { variant: 'ferry-autoconverge', kind: 'dirty', spec, mode: 'live', options: { ...cap, autoConverge: true }, budgetMs: CONVERGE_BUDGET_MS, settleMs })],
    [
      'ferry-postcopy',
      () => ferryRun(ctx, { variant: 'ferry-postcopy', kind: 'dirty', spec, mode: 'live', options: { ...cap, postcopy: true }, budgetMs: CONVERGE_BUDGET_MS, settleMs, postcopyWhenNotConverging: true }),
    ],
    ['article', () => articleRun(ctx, { kind: 'dirty', spec, mode: 'live', ...cap, budgetMs: NO_CONVERGE_BUDGET_MS })],
    ['tuned', () => tunedRun(ctx, { kind: 'dirty', spec, mode: 'live', ...cap, budgetMs: CONVERGE_BUDGET_MS })],
  ]);
  const result = scenarioResult('dirty', `live, guest dirtying ${DIRTY_MIB} MiB, link capped at ${DIRTY_BANDWIDTH_MIBPS} MiB/s`, runs, null, [
    `runs that cannot converge are cancelled after ${NO_CONVERGE_BUDGET_MS / 1000} s; their time is that budget.`,
    'ferry-autoconverge = Ferry with auto-converge on from the start; ferry-postcopy = Ferry with postcopy allowed, switched to postcopy by the bench (as a user would) when Ferry reports that the migration is not converging.',
    'tuned = auto-converge with cpu-throttle-initial 40 / increment 20 (QEMU defaults 20 / 10).',
  ]);
  const get = (variant: string) => result.variants.find((entry) => entry.variant === variant)?.median['wallMs'] ?? null;
  const ac = get('ferry-autoconverge');
  const tuned = get('tuned');
  result.ratios['time ferry-autoconverge/tuned'] = ac !== null && tuned !== null && tuned > 0 ? ac / tuned : null;
  return result;
}
