import { median, ratio } from '../stats.js';
import type { BenchContext, RunResult, ScenarioResult, VariantSummary } from '../types.js';
import type { BytesNeeded, LinkResult } from '../baselines/link.js';

export type Runner = () => Promise<RunResult>;

/**
 * Runs every variant once per repetition, interleaved (ferry, article, tuned, ferry, ...), so
 * that slow drifts of the shared lab spread over all of them instead of hitting one.
 */
export async function repeatInterleaved(ctx: BenchContext, scenario: string, variants: Array<[string, Runner]>): Promise<RunResult[]> {
  const runs: RunResult[] = [];
  for (let rep = 1; rep <= ctx.reps; rep++) {
    for (const [label, runner] of variants) {
      ctx.log(`${scenario}: ${label} ${rep}/${ctx.reps} ...`);
      // A run that cannot even start (the shared lab overloaded) is recorded as failed; the others go on.
      const result = await runner().catch((error: unknown): RunResult => failedRun(label, error));
      runs.push(result);
      ctx.log(
        `${scenario}: ${label} ${rep}/${ctx.reps}: ${result.ok ? (result.converged ? 'done' : 'not converged') : 'FAILED'} wall ${result.wallMs} ms, downtime ${result.downtimeMs ?? '-'} ms, gap ${result.maxGapMs ?? '-'} ms, wire ${(result.wireBytes / 1048576).toFixed(1)} MiB${result.error ? ` (${result.error})` : ''}`,
      );
    }
  }
  return runs;
}

const NUMERIC: Array<keyof RunResult> = ['wallMs', 'totalMs', 'setupMs', 'downtimeMs', 'maxGapMs', 'ramBytes', 'wireBytes', 'throughputBps', 'cpuSec', 'peakRssMB'];

export function summarize(runs: RunResult[]): VariantSummary[] {
  const names = [...new Set(runs.map((run) => run.variant))];
  return names.map((variant) => {
    const mine = runs.filter((run) => run.variant === variant);
    const ok = mine.filter((run) => run.ok);
    const med: Record<string, number | null> = {};
    for (const key of NUMERIC) med[key] = median(ok.map((run) => run[key] as number | null));
    med['diskBytes'] = median(ok.map((run) => run.diskBytes.reduce((sum, bytes) => sum + bytes, 0)));
    const extra: Record<string, number | string | boolean | null> = { converged: `${mine.filter((run) => run.converged).length}/${mine.length}` };
    const extraKeys = new Set(ok.flatMap((run) => Object.keys(run.extra)));
    for (const key of extraKeys) {
      const values = ok.map((run) => run.extra[key]);
      const numbers = values.filter((value): value is number => typeof value === 'number');
      extra[key] = numbers.length > 0 ? median(numbers) : (values.find((value) => value !== null && value !== undefined) ?? null);
    }
    const errors = mine.map((run) => run.error).filter((error): error is string => error !== null);
    if (errors.length > 0) extra['errors'] = [...new Set(errors)].join(' | ');
    return { variant, runs: mine.length, okRuns: ok.filter((run) => run.converged).length, median: med, extra };
  });
}

export interface Bound {
  needed: BytesNeeded;
  link: LinkResult;
  /** Which parts must cross in this scenario. */
  ram: boolean;
  disk: boolean;
}

export function scenarioResult(scenario: string, description: string, runs: RunResult[], bound: Bound | null, notes: string[] = []): ScenarioResult {
  const variants = summarize(runs);
  const get = (variant: string, key: string) => variants.find((entry) => entry.variant === variant)?.median[key] ?? null;
  const boundInfo = bound
    ? (() => {
        const ramBytesNeeded = bound.ram ? bound.needed.ramBytes : 0;
        const diskBytesNeeded = bound.disk ? bound.needed.diskBytes : 0;
        const bytesNeeded = ramBytesNeeded + diskBytesNeeded;
        return { bytesNeeded, ramBytesNeeded, diskBytesNeeded, linkBps: bound.link.bps, timeMs: bound.link.bps > 0 ? (bytesNeeded * 1000) / bound.link.bps : 0 };
      })()
    : null;
  const ratios: Record<string, number | null> = {
    'time ferry/article': ratio(get('ferry', 'wallMs'), get('article', 'wallMs')),
    'time ferry/tuned': ratio(get('ferry', 'wallMs'), get('tuned', 'wallMs')),
    'time ferry/libvirt': ratio(get('ferry', 'wallMs'), get('libvirt', 'wallMs')),
    'time ferry/link-bound': boundInfo ? ratio(get('ferry', 'wallMs'), boundInfo.timeMs) : null,
    'time tuned/link-bound': boundInfo ? ratio(get('tuned', 'wallMs'), boundInfo.timeMs) : null,
    'downtime ferry/article': ratio(get('ferry', 'downtimeMs'), get('article', 'downtimeMs')),
    'downtime ferry/tuned': ratio(get('ferry', 'downtimeMs'), get('tuned', 'downtimeMs')),
    'gap ferry/tuned': ratio(get('ferry', 'maxGapMs'), get('tuned', 'maxGapMs')),
    'wire ferry/needed': boundInfo ? ratio(get('ferry', 'wireBytes'), boundInfo.bytesNeeded) : null,
    'wire article/needed': boundInfo ? ratio(get('article', 'wireBytes'), boundInfo.bytesNeeded) : null,
    'wire tuned/needed': boundInfo ? ratio(get('tuned', 'wireBytes'), boundInfo.bytesNeeded) : null,
    // TLS is Ferry's default; "ferry" rows run over TCP to compare like with like with the baselines.
    'time ferry-tls/ferry': ratio(get('ferry-tls', 'wallMs'), get('ferry', 'wallMs')),
    'time ferry-tls/tuned': ratio(get('ferry-tls', 'wallMs'), get('tuned', 'wallMs')),
  };
  // Pre-flight's prediction against what happened, over every Ferry run of the scenario.
  const predicted = runs.filter((run) => run.variant.startsWith('ferry') && run.ok && typeof run.extra['predictedMs'] === 'number' && run.totalMs !== null);
  const predictionRatios = predicted.map((run) => (run.extra['predictedMs'] as number) / (run.totalMs as number));
  ratios['prediction predicted/actual (median)'] = median(predictionRatios);
  const verdicts = runs.filter((run) => run.variant.startsWith('ferry') && typeof run.extra['predictedConverges'] === 'boolean');
  // A run that switched to postcopy on Ferry's advice did so because pre-copy was not converging.
  const precopyConverged = (run: RunResult) => run.converged && run.extra['postcopySwitchAtMs'] === undefined;
  const rightVerdicts = verdicts.filter((run) => run.extra['predictedConverges'] === precopyConverged(run)).length;
  const predictionNotes =
    predicted.length + verdicts.length === 0
      ? []
      : [
          `prediction: ${predictionRatios.filter((value) => Math.abs(value - 1) <= 0.3).length}/${predictionRatios.length} Ferry runs within ±30 % of the actual total time (${predictionRatios.map((value) => value.toFixed(2)).join(', ')}); convergence verdict right in ${rightVerdicts}/${verdicts.length}.`,
        ];
  for (const key of Object.keys(ratios)) if (ratios[key] === null) delete ratios[key];
  return { scenario, description, bound: boundInfo, variants, ratios, runs, notes: [...notes, ...predictionNotes], prediction: { within30: predictionRatios.filter((value) => Math.abs(value - 1) <= 0.3).length, predicted: predictionRatios.length, rightVerdicts, verdicts: verdicts.length } };
}

function failedRun(variant: string, error: unknown): RunResult {
  return {
    variant, ok: false, converged: false, error: error instanceof Error ? error.message : String(error),
    wallMs: 0, totalMs: null, setupMs: null, downtimeMs: null, maxGapMs: null, ramBytes: 0, diskBytes: [], wireBytes: 0, throughputBps: 0, cpuSec: 0, peakRssMB: 0, extra: {},
  };
}
