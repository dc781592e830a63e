import { articleRun } from '../baselines/article.js';
import type { BytesNeeded, LinkResult } from '../baselines/link.js';
import { tunedRun } from '../baselines/tuned.js';
import { STANDARD_GUEST } from '../guest-setup.js';
import type { BenchContext, ScenarioResult } from '../types.js';
import { repeatInterleaved, scenarioResult } from './common.js';
import { ferryRun } from './ferry-run.js';

/** 2. Live migration with the disk on the shared directory: only memory and device state move. */
export async function liveScenario(ctx: BenchContext, needed: BytesNeeded, link: LinkResult): Promise<ScenarioResult> {
  const spec = { ...STANDARD_GUEST, shared: true };
  const runs = await repeatInterleaved(ctx, 'live', [
    ['ferry', () => ferryRun(ctx, { variant: 'ferry', kind: 'live', spec, mode: 'live' })],
    ['article', () => articleRun(ctx, { kind: 'live', spec, mode: 'live' })],
    ['tuned', () => tunedRun(ctx, { kind: 'live', spec, mode: 'live' })],
  ]);
  return scenarioResult('live', 'live, disk on shared storage (/srv/ferry-shared)', runs, { needed, link, ram: true, disk: false });
}
