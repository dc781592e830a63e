import type { LabEngine } from '../support/lab-engine.js';
import { GapProbe } from './probe.js';
import { ResourceMeter } from './stats.js';
import type { RunResult } from './types.js';
import { WireMeter } from './wire.js';

/** What a procedure reports about itself; measure() adds time, gap, wire bytes, CPU and RSS. */
export interface ProcedureOutcome {
  ok: boolean;
  converged: boolean;
  error?: string | null;
  totalMs: number | null;
  setupMs: number | null;
  downtimeMs: number | null;
  ramBytes: number;
  diskBytes: number[];
  extra?: Record<string, number | string | boolean | null>;
  /** When the VM ran on the destination (default: when the procedure returned). */
  doneAt?: number;
}

/**
 * Runs one migration procedure inside a measurement window: heartbeat probe on both hosts, veth
 * byte counters, CPU and RSS of this process. Wall time runs from the first command of the
 * procedure until the VM runs on the destination; the heartbeat gap until the guest has beaten there.
 */
export async function measure(le: LabEngine, variant: string, logs: { source: string; destination: string }, procedure: () => Promise<ProcedureOutcome>): Promise<RunResult> {
  const probe = new GapProbe(le, logs);
  const wire = new WireMeter();
  const meter = new ResourceMeter();
  const t0 = Date.now();
  let outcome: ProcedureOutcome;
  try {
    outcome = await procedure();
  } catch (error) {
    outcome = { ok: false, converged: false, error: (error as Error).message, totalMs: null, setupMs: null, downtimeMs: null, ramBytes: 0, diskBytes: [] };
  }
  const doneAt = outcome.doneAt ?? Date.now();
  const resources = meter.stop();
  const wireBytes = wire.bytes();
  let maxGapMs: number | null = null;
  if (outcome.ok && outcome.converged) {
    const beat = await probe.destinationBeatAfter(doneAt);
    maxGapMs = probe.stop();
    if (!beat) outcome.error = 'the guest never printed a heartbeat on the destination';
  } else {
    probe.stop();
  }
  const wallMs = doneAt - t0;
  return {
    variant,
    ok: outcome.ok,
    converged: outcome.converged,
    error: outcome.error ?? null,
    wallMs,
    totalMs: outcome.totalMs,
    setupMs: outcome.setupMs,
    downtimeMs: outcome.downtimeMs,
    maxGapMs,
    ramBytes: outcome.ramBytes,
    diskBytes: outcome.diskBytes,
    wireBytes,
    throughputBps: wallMs > 0 ? (wireBytes * 1000) / wallMs : 0,
    cpuSec: resources.cpuSec,
    peakRssMB: resources.peakRssMB,
    extra: { ...(outcome.extra ?? {}), lifetimeMaxRssMB: resources.lifetimeMaxRssMB },
  };
}
