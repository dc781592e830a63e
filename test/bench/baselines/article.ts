import type { LabEngine } from '../../support/lab-engine.js';
import { benchName, createImage, diskPath, handGuestPaths, removeHandGuest, startHandGuest, waitBooted, type GuestSpec } from '../guest-setup.js';
import { measure, type ProcedureOutcome } from '../measure.js';
import { HandQmp, type MigrateStatus } from '../qmp.js';
import { sleep } from '../stats.js';
import type { BenchContext, RunResult } from '../types.js';
import { LAB_KEY_ARGS, handPort } from './ports.js';

export interface HandRunOptions {
  kind: string;
  spec: GuestSpec;
  mode: 'block' | 'live' | 'offline';
  /** A link limit imposed by the scenario (the dirty one), in MiB/s. */
  bandwidthMiBps?: number;
  /** Give up (migrate_cancel) after this long. */
  budgetMs?: number;
}

/**
 * "article": the seed article's procedure by hand, with QEMU's defaults (128 MiB/s, 300 ms):
 * destination started with the same arguments plus -incoming tcp:0:PORT, source `migrate` (with
 * blk for a block copy, the 7.2 legacy path, which needs named -drive disks). Offline: shut the
 * guest down, scp the image, start it on the destination.
 */
export async function articleRun(ctx: BenchContext, run: HandRunOptions): Promise<RunResult> {
  const { le } = ctx;
  const name = benchName(`art-${run.kind}`);
  const disk = diskPath(run.spec, name);
  const paths = handGuestPaths(name);
  try {
    await createImage(le, 'a', disk, run.spec);
    await startHandGuest(le, 'a', { name, spec: run.spec, disk, diskStyle: 'drive' });
    await waitBooted(le, 'a', paths.serialLog, 1500);
    return await measure(le, 'article', { source: paths.serialLog, destination: paths.serialLog }, () =>
      run.mode === 'offline' ? articleOffline(le, name, disk, run) : articleLive(le, name, disk, run),
    );
  } finally {
    await removeHandGuest(le, 'a', name, [disk]);
    await removeHandGuest(le, 'b', name, [disk]);
  }
}

async function articleLive(le: LabEngine, name: string, disk: string, run: HandRunOptions): Promise<ProcedureOutcome> {
  const paths = handGuestPaths(name);
  const block = run.mode === 'block';
  // "The destination host gets an empty image at least as large as the source's."
  if (block) await le.sh('b', `mkdir -p $(dirname ${disk}) && qemu-img create -q -f qcow2 ${disk} ${run.spec.diskMiB}M`);
  let port = 0;
  for (let attempt = 0; attempt < 5 && port === 0; attempt++) {
    const candidate = handPort();
    try {
      await startHandGuest(le, 'b', { name, spec: run.spec, disk, diskStyle: 'drive', incoming: `tcp:0:${candidate}` });
      port = candidate;
    } catch (error) {
      if (!/in use|bind/i.test((error as Error).message)) throw error;
    }
  }
  const source = await HandQmp.open(await le.engine.transport('a'), paths.qmpSocket);
  const destination = await HandQmp.open(await le.engine.transport('b'), paths.qmpSocket);
  try {
    if (run.bandwidthMiBps !== undefined) await source.cmd('migrate-set-parameters', { 'max-bandwidth': Math.round(run.bandwidthMiBps * 1024 * 1024) });
    await source.cmd('migrate', { uri: `tcp:${le.labHost('b').address}:${port}`, ...(block ? { blk: true } : {}) });
    let last: MigrateStatus = {};
    // query-migrate drops the disk counters once the migration has completed; keep the last seen.
    let diskSeen = 0;
    const info = await source.migrateUntil(['completed'], 50, run.budgetMs ?? 900_000, (poll) => {
      last = poll;
      diskSeen = Math.max(diskSeen, poll.disk?.transferred ?? 0);
    });
    if (info.status !== 'completed') {
      await source.cmd('migrate_cancel');
      return { ok: true, converged: false, error: `not finished within ${run.budgetMs} ms; cancelled`, totalMs: null, setupMs: info['setup-time'] ?? null, downtimeMs: null, ramBytes: last.ram?.transferred ?? 0, diskBytes: [], extra: { expectedDowntimeMs: last['expected-downtime'] ?? null, passes: last.ram?.['dirty-sync-count'] ?? null } };
    }
    // The destination was started without -S, so it resumes by itself; the article then stops the source.
    await destination.waitRunning();
    const doneAt = Date.now();
    await source.quit();
    return {
      ok: true, converged: true, doneAt,
      totalMs: info['total-time'] ?? null, setupMs: info['setup-time'] ?? null, downtimeMs: info.downtime ?? null,
      ramBytes: info.ram?.transferred ?? 0, diskBytes: block ? [Math.max(diskSeen, info.disk?.transferred ?? 0)] : [],
      extra: { passes: info.ram?.['dirty-sync-count'] ?? null },
    };
  } finally {
    await source.close();
    await destination.close();
  }
}

async function articleOffline(le: LabEngine, name: string, disk: string, run: HandRunOptions): Promise<ProcedureOutcome> {
  const paths = handGuestPaths(name);
  const source = await HandQmp.open(await le.engine.transport('a'), paths.qmpSocket);
  // Shut down (ACPI), giving it the same 2 s Ferry is given, then pull the plug.
  await source.cmd('system_powerdown');
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline && (await le.sh('a', `kill -0 $(cat ${paths.pidFile}) 2>/dev/null && echo up || true`)).trim() === 'up') await sleep(200);
  await source.quit();
  await le.sh('a', `while kill -0 $(cat ${paths.pidFile} 2>/dev/null) 2>/dev/null; do sleep 0.05; done; true`);
  const fileBytes = Number((await le.sh('a', `stat -c %s ${disk}`)).trim());
  await le.sh('a', `scp -q ${LAB_KEY_ARGS} ${disk} root@${le.labHost('b').address}:${disk}`);
  await startHandGuest(le, 'b', { name, spec: run.spec, disk, diskStyle: 'drive' });
  return { ok: true, converged: true, totalMs: null, setupMs: null, downtimeMs: null, ramBytes: 0, diskBytes: [fileBytes] };
}
