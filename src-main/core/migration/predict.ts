import type { MigrationMode, MigrationPrediction, MigrationRecord } from '../api/types.js';
import { AUTO_CONVERGE_THROTTLE } from './capabilities.js';

/** What earlier migrations between the same hosts say about the next one. */
export interface HistoryFacts {
  /** Completed migrations the figures come from. */
  runs: number;
  /** Bytes per second while memory and disks were moving (not counting set-up and hand-over). */
  transferBps: number | null;
  /** Memory QEMU actually sent, as a share of the guest's RAM (zero pages cost next to nothing). */
  ramShare: number | null;
  /** Ferry's own time around the transfer (pre-flight, preparing, finishing), per mode. */
  overheadMs: Partial<Record<MigrationMode, number>>;
}

export interface PredictionInputs {
  mode: MigrationMode;
  memoryBytes: number;
  /** Bytes of disk data to copy (allocated data of the disks that are not shared). */
  diskBytes: number;
  /** From QEMU's calc-dirty-rate on the running source; null when not measured. */
  dirtyRateBps: number | null;
  downtimeLimitMs: number;
  bandwidthLimitBps: number | null;
  history: HistoryFacts;
  /** Raw link throughput from a test transfer, used when there is no history. */
  linkBps: number | null;
  /** Auto-converge on: QEMU slows the guest's vCPUs while memory does not shrink. */
  autoConverge?: boolean;
  /** Ferry's default limit is in force and may be raised this far while memory does not converge. */
  relaxableToMs?: number | null;
}

/** Auto-converge's throttle steps as Ferry sets them, as fractions. */
const AUTO_CONVERGE_FIRST = AUTO_CONVERGE_THROTTLE['cpu-throttle-initial'] / 100;
const AUTO_CONVERGE_STEP = AUTO_CONVERGE_THROTTLE['cpu-throttle-increment'] / 100;
/** QEMU syncs the dirty bitmap, and may throttle further, about once a second. */
const THROTTLE_PERIOD_MS = 1000;

/** Below this share of the link, memory shrinks from pass to pass. */
const CONVERGING_SHARE = 0.9;
/** QEMU gives up on nothing by itself; Ferry's prediction stops counting passes here. */
const MAX_PASSES = 30;
/** Ferry's own time around the transfer before history knows better (measured on the lab: ~0.5–1 s). */
const DEFAULT_OVERHEAD_MS = 800;
const OFFLINE_DEFAULT_OVERHEAD_MS = 1500;

const median = (values: number[]): number | null => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((x, y) => x - y);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? null) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

/** Learns from the last completed migrations from `from` to `to` (newest first, at most ten). */
export function historyFacts(records: MigrationRecord[], from: string, to: string): HistoryFacts {
  const usable = records.filter((record) => record.from === from && record.to === to && record.report?.outcome === 'completed').slice(0, 10);
  const speeds: number[] = [];
  const shares: number[] = [];
  const overheads: Partial<Record<MigrationMode, number[]>> = {};
  for (const record of usable) {
    const report = record.report;
    if (!report) continue;
    const moving = record.samples.filter((sample) => sample.phase === 'memory' || sample.phase === 'copying-disks');
    const first = moving[0];
    const last = moving[moving.length - 1];
    const moved = report.ramBytes + report.disks.reduce((sum, disk) => sum + disk.bytes, 0);
    const spanMs = first && last ? last.t - first.t : 0;
    // One sample's worth of time is missing from the span (the move began before the first one).
    const transferMs = spanMs + (moving.length > 1 ? spanMs / (moving.length - 1) : 0);
    if (transferMs > 0 && moved > 0) speeds.push((moved * 1000) / transferMs);
    const ramTotal = record.samples.reduce((max, sample) => Math.max(max, sample.ram.totalBytes), 0);
    if (ramTotal > 0 && report.ramBytes > 0) shares.push(Math.min(1, report.ramBytes / ramTotal));
    if (transferMs > 0 || report.mode === 'offline') (overheads[report.mode] ??= []).push(Math.max(0, report.totalTimeMs - transferMs));
  }
  const overheadMs: HistoryFacts['overheadMs'] = {};
  for (const [mode, values] of Object.entries(overheads) as Array<[MigrationMode, number[]]>) {
    const value = median(values);
    if (value !== null) overheadMs[mode] = value;
  }
  return { runs: usable.length, transferBps: median(speeds), ramShare: median(shares), overheadMs };
}

/**
 * Predicts a migration from the guest's dirty rate and what the link and earlier migrations
 * showed. Pre-copy sends memory in passes: each resends what the guest dirtied during the one
 * before, so the remainder shrinks by dirty rate / throughput per pass, and QEMU switches over
 * once what is left fits in the downtime limit. A guest that dirties as fast as the link moves
 * memory never gets there: that is the "not converging" case, told before the start.
 */
export function predictMigration(inputs: PredictionInputs): MigrationPrediction {
  const strict = predictAtLimit(inputs);
  const relaxTo = inputs.relaxableToMs;
  if (strict.converges !== false || relaxTo === undefined || relaxTo === null || relaxTo <= inputs.downtimeLimitMs) return strict;
  // Ferry raises its default limit while memory does not converge (LiveControls.relaxDefaultDowntime).
  const relaxed = predictAtLimit({ ...inputs, downtimeLimitMs: relaxTo });
  if (relaxed.converges !== true) return strict;
  return { ...relaxed, summary: `${relaxed.summary.replace(/\.$/, '')}, once Ferry has raised its downtime limit to ${relaxTo} ms.` };
}

function predictAtLimit(inputs: PredictionInputs): MigrationPrediction {
  const linkFromHistory = inputs.history.transferBps;
  let throughput = linkFromHistory ?? inputs.linkBps;
  if (throughput !== null && inputs.bandwidthLimitBps !== null) throughput = Math.min(throughput, inputs.bandwidthLimitBps);
  const ramShare = inputs.history.ramShare ?? 1;
  const ramBytes = inputs.mode === 'offline' ? 0 : inputs.memoryBytes * ramShare;
  const overheadMs = inputs.history.overheadMs[inputs.mode] ?? (inputs.mode === 'offline' ? OFFLINE_DEFAULT_OVERHEAD_MS : DEFAULT_OVERHEAD_MS);
  const basis: string[] = [];
  basis.push(linkFromHistory !== null ? `throughput of the last ${inputs.history.runs} migration(s) between these hosts` : inputs.linkBps !== null ? 'a test transfer between the hosts (no migration between them yet)' : 'no throughput figure');
  if (inputs.history.ramShare === null && inputs.mode !== 'offline') basis.push("all the guest's RAM counted as in use (no earlier migration to learn from)");
  const base = { throughputBps: throughput, dirtyRateBps: inputs.dirtyRateBps, ramBytes: Math.round(ramBytes), diskBytes: inputs.diskBytes, basis: basis.join('; ') };
  if (throughput === null || throughput <= 0) {
    return { ...base, totalTimeMs: null, downtimeMs: null, passes: null, converges: null, recommendation: null, summary: 'Cannot predict: no throughput figure for these hosts.' };
  }
  const diskMs = (inputs.diskBytes * 1000) / throughput;
  if (inputs.mode === 'offline') {
    const totalTimeMs = Math.round(overheadMs + diskMs);
    return { ...base, totalTimeMs, downtimeMs: totalTimeMs, passes: null, converges: true, recommendation: null, summary: `About ${seconds(totalTimeMs)}; the VM is off for all of it.` };
  }
  const dirty = inputs.dirtyRateBps;
  const fits = (throughput * inputs.downtimeLimitMs) / 1000;
  let remaining = ramBytes;
  let memoryMs = 0;
  let passes = 0;
  let throttle = 0;
  // During a block copy the guest keeps dirtying memory too, but memory only starts moving after.
  while (passes < MAX_PASSES) {
    passes += 1;
    const passMs = (remaining * 1000) / throughput;
    memoryMs += passMs;
    const dirtying = dirty === null ? 0 : dirty * (1 - throttle);
    remaining = Math.min(ramBytes, (dirtying * passMs) / 1000);
    if (remaining <= fits) break;
    // QEMU throttles once the guest dirties more than half of what a period moved (Ferry's steps:
    // 40 %, then 20 % more each time); without auto-converge such a guest stays where it is.
    if (inputs.autoConverge && dirtying > throughput * 0.5) {
      throttle = Math.min(0.99, throttle === 0 ? AUTO_CONVERGE_FIRST : throttle + AUTO_CONVERGE_STEP);
      // A throttled pass is at least a sync period long, however little is left.
      memoryMs += THROTTLE_PERIOD_MS;
      continue;
    }
    if (dirtying >= throughput * CONVERGING_SHARE) break;
  }
  const converges = dirty === null ? null : remaining <= fits;
  const downtimeMs = converges === false ? null : Math.round((remaining * 1000) / throughput);
  const totalTimeMs = converges === false ? null : Math.round(overheadMs + diskMs + memoryMs);
  if (converges === false) {
    const share = dirty !== null ? dirty / throughput : 0;
    // Auto-converge slows the vCPUs until the guest dirties less than the link moves; one that
    // dirties much faster would have to be nearly stopped, and postcopy moves it at once instead.
    const recommendation = share < 2 ? 'auto-converge' : 'postcopy';
    return {
      ...base,
      totalTimeMs,
      downtimeMs,
      passes: null,
      converges,
      recommendation,
      summary: `Will not converge: the guest dirties ${rate(dirty ?? 0)} and the link moves ${rate(throughput)}. ${recommendation === 'auto-converge' ? 'Turn on auto-converge' : 'Use postcopy'}, or raise the downtime limit.`,
    };
  }
  const dirtyNote = dirty === null ? ' (dirty rate not measured)' : '';
  return {
    ...base,
    totalTimeMs,
    downtimeMs,
    passes,
    converges,
    recommendation: null,
    summary: `About ${seconds(totalTimeMs ?? 0)} in ${passes} pass${passes === 1 ? '' : 'es'}, paused about ${downtimeMs ?? 0} ms at the switch-over${dirtyNote}.`,
  };
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function rate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / (1024 * 1024)).toFixed(1)} MiB/s`;
}
