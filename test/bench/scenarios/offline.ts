import { articleRun } from '../baselines/article.js';
import type { BytesNeeded, LinkResult } from '../baselines/link.js';
import { tunedRun } from '../baselines/tuned.js';
import { STANDARD_GUEST } from '../guest-setup.js';
import type { BenchContext, ScenarioResult } from '../types.js';
import { repeatInterleaved, scenarioResult } from './common.js';
import { ferryRun } from './ferry-run.js';

/** 3. Offline: the same disk, the VM shut down (2 s ACPI grace, then forced) and started on b. */
export async function offlineScenario(ctx: BenchContext, needed: BytesNeeded, link: LinkResult): Promise<ScenarioResult> {
  const spec = STANDARD_GUEST;
  const runs = await repeatInterleaved(ctx, 'offline', [
    ['ferry', () => ferryRun(ctx, { variant: 'ferry', kind: 'off', spec, mode: 'offline' })],
    ['article', () => articleRun(ctx, { kind: 'off', spec, mode: 'offline' })],
    ['tuned', () => tunedRun(ctx, { kind: 'off', spec, mode: 'offline' })],
  ]);
  return scenarioResult('offline', 'offline: shut down, copy the disk, start on b', runs, { needed, link, ram: false, disk: true }, [
    'wall time ends when QEMU is started on b; the heartbeat gap runs until the rebooted guest beats there.',
    'article = ACPI shutdown (2 s grace, then quit), scp of the image, start; tuned = quit, qemu-nbd + qemu-img convert -W -m 8 --target-is-zero, start.',
  ]);
}
