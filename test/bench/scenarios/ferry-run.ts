import type { ChannelInput } from '../../../src-main/core/api/contract.js';
import type { MigrationRecord } from '../../../src-main/core/api/types.js';
import { benchName, createImage, diskPath, removeFerryGuest, startFerryGuest, waitBooted, type GuestSpec } from '../guest-setup.js';
import { measure } from '../measure.js';
import { sleep } from '../stats.js';
import type { BenchContext, RunResult } from '../types.js';

export interface FerryRunOptions {
  variant: string;
  kind: string;
  spec: GuestSpec;
  mode: 'block' | 'live' | 'offline';
  /** Extra migrations.start options (bandwidth, auto-converge, ...). */
  options?: Partial<ChannelInput<'migrations.start'>>;
  /** Cancel the migration when it has not finished by then (the dirty scenario). */
  budgetMs?: number;
  settleMs?: number;
  /** Act as a user who follows Ferry's "not converging" advice by switching to postcopy. */
  postcopyWhenNotConverging?: boolean;
}

/** One Ferry migration of a fresh guest from a to b through the engine, as the GUI would run it. */
export async function ferryRun(ctx: BenchContext, run: FerryRunOptions): Promise<RunResult> {
  const { le } = ctx;
  const name = benchName(run.kind);
  const disk = diskPath(run.spec, name);
  try {
    await createImage(le, 'a', disk, run.spec);
    const log = await startFerryGuest(le, name, run.spec, disk);
    await waitBooted(le, 'a', log, run.settleMs ?? 1500);
    // What pre-flight predicts for this very move, asked as the Migrate dialog asks (not timed).
    const check = await le.engine.call('migrations.check', { vm: name, from: 'a', to: 'b', mode: run.mode, transport: 'tcp', ...(run.options ?? {}) });
    const prediction = check.prediction ?? null;
    const predictionFacts = {
      predictedMs: prediction?.totalTimeMs ?? null,
      predictedConverges: prediction?.converges ?? null,
      predictedDirtyRateBps: prediction?.dirtyRateBps ?? null,
      predictionBasis: prediction?.basis ?? null,
    };
    return await measure(le, run.variant, { source: log, destination: log }, async () => {
      const t0 = Date.now();
      // Phase changes as the GUI sees them, to tell where Ferry's time goes.
      const phases: Array<{ phase: string; at: number }> = [];
      const stopListening = le.engine.onEvent((event) => {
        if (event.name !== 'migration-update') return;
        const update = event.payload;
        if (update.vm === name && phases[phases.length - 1]?.phase !== update.phase) phases.push({ phase: update.phase, at: Date.now() });
      });
      // Samples may arrive before migrations.start returns the id; they are not the ones wanted.
      const started: { id?: string } = {};
      let advice: { atMs: number; verdict: string } | undefined;
      const stopAdvising = le.engine.onEvent((event) => {
        if (event.name !== 'migration-sample' || !run.postcopyWhenNotConverging || advice) return;
        const { id, sample } = event.payload;
        if (id !== started.id || sample.notConverging === null) return;
        advice = { atMs: Date.now() - t0, verdict: sample.notConverging };
        void le.engine.call('migrations.tune', { id, startPostcopy: true }).catch(() => undefined);
      });
      const summary = await le.engine.call('migrations.start', {
        // Over TCP unless a variant asks for TLS (Ferry's default): the baselines run in the clear.
        vm: name, from: 'a', to: 'b', mode: run.mode, probe: 'serial', shutdownTimeoutMs: 2000, transport: 'tcp', ...(run.options ?? {}),
      });
      started.id = summary.id;
      let cancelled = false;
      const timer =
        run.budgetMs === undefined
          ? undefined
          : setTimeout(() => {
              cancelled = true;
              void le.engine.call('migrations.cancel', { id: summary.id }).catch(() => undefined);
            }, run.budgetMs);
      const record = await le.engine.migrations.settled(summary.id);
      const doneAt = Date.now();
      stopListening();
      stopAdvising();
      if (timer) clearTimeout(timer);
      const report = record.report;
      const ok = report?.outcome === 'completed';
      return {
        ok: ok || cancelled,
        converged: ok,
        error: ok ? null : cancelled ? `not finished within ${run.budgetMs} ms; cancelled` : (report?.error?.message ?? 'no report'),
        totalMs: report?.totalTimeMs ?? null,
        setupMs: report?.setupTimeMs ?? null,
        downtimeMs: report?.downtimeMs ?? null,
        ramBytes: report?.ramBytes ?? 0,
        diskBytes: report?.disks.map((entry) => entry.bytes) ?? [],
        doneAt,
        extra: { ...sampleFacts(record), ...phaseTimes(t0, phases, doneAt), ...predictionFacts, ...(advice ? { postcopySwitchAtMs: advice.atMs } : {}) },
      };
    });
  } finally {
    await sleep(200);
    await removeFerryGuest(le, name, disk);
  }
}

/** Milliseconds spent in each phase; "preflight" runs from the call until the first phase change. */
function phaseTimes(t0: number, phases: Array<{ phase: string; at: number }>, doneAt: number): Record<string, number> {
  const times: Record<string, number> = {};
  let previous = { phase: 'preflight', at: t0 };
  for (const entry of [...phases, { phase: 'end', at: doneAt }]) {
    const key = `phase:${previous.phase}Ms`;
    times[key] = (times[key] ?? 0) + (entry.at - previous.at);
    previous = entry;
  }
  return times;
}

/** What the live samples say about convergence: throttle reached, passes, Ferry's verdict. */
function sampleFacts(record: MigrationRecord): Record<string, number | string | boolean | null> {
  const samples = record.samples;
  const advised = samples.find((sample) => sample.notConverging !== null);
  const verdict = advised?.notConverging ?? null;
  return {
    ferryHeartbeatGapMs: record.report?.maxHeartbeatGapMs ?? null,
    ferryThroughputBps: record.report?.averageThroughputBps ?? null,
    maxThrottlePercent: samples.reduce((max, sample) => Math.max(max, sample.throttlePercent), 0),
    passes: samples.reduce((max, sample) => Math.max(max, sample.pass), 0),
    notConvergingVerdict: verdict,
    notConvergingPass: advised?.pass ?? null,
    samples: samples.length,
  };
}
