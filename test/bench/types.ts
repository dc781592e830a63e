import type { LabEngine } from '../support/lab-engine.js';

/** Everything a scenario needs: the lab engine (hosts "a" and "b"), options and a logger. */
export interface BenchContext {
  le: LabEngine;
  quick: boolean;
  reps: number;
  log(line: string): void;
}

export type Variant = 'ferry' | 'article' | 'tuned' | 'ferry-autoconverge' | 'ferry-no-ac';

/** One measured run of one variant. Times in ms, sizes in bytes, CPU in seconds, RSS in MB. */
export interface RunResult {
  variant: string;
  ok: boolean;
  /** Whether the move finished (false: it was cancelled after the time budget, or failed). */
  converged: boolean;
  error: string | null;
  /** Wall clock seen by the bench: from the first command of the procedure until the VM runs on the destination. */
  wallMs: number;
  /** QEMU's total-time (baselines) or Ferry's report.totalTimeMs. */
  totalMs: number | null;
  setupMs: number | null;
  /** QEMU's downtime figure. */
  downtimeMs: number | null;
  /** Longest time without a heartbeat line, from outside the guest, until it beats on the destination. */
  maxGapMs: number | null;
  ramBytes: number;
  diskBytes: number[];
  /** Bytes host a sent that host b received during the run (veth counters; see wire.ts). */
  wireBytes: number;
  /** wireBytes / wallMs. */
  throughputBps: number;
  /** CPU seconds of the bench process (which hosts the Ferry engine or the hand QMP driver). */
  cpuSec: number;
  /** Peak RSS of the bench process sampled during the run. */
  peakRssMB: number;
  extra: Record<string, number | string | boolean | null>;
}

/** Medians over the repetitions of one variant. */
export interface VariantSummary {
  variant: string;
  runs: number;
  okRuns: number;
  median: Record<string, number | null>;
  extra: Record<string, number | string | boolean | null>;
}

export interface ScenarioResult {
  scenario: string;
  description: string;
  /** The lower bound from the link measurement, when it applies. */
  bound: { bytesNeeded: number; ramBytesNeeded: number; diskBytesNeeded: number; linkBps: number; timeMs: number } | null;
  variants: VariantSummary[];
  ratios: Record<string, number | null>;
  runs: RunResult[];
  notes: string[];
  /** Pre-flight's prediction against the Ferry runs: how many within ±30 %, how many verdicts right. */
  prediction?: { within30: number; predicted: number; rightVerdicts: number; verdicts: number };
}
