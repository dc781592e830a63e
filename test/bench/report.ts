import type { RoundtripResult } from './scenarios/roundtrip.js';
import type { ScaleResult } from './scenarios/scale.js';
import type { ScenarioResult, VariantSummary } from './types.js';

export interface Goal {
  goal: string;
  target: string;
  measured: string;
  met: boolean | null;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  reps: number;
  machine: Record<string, string | number>;
  link: { bps: number; samples: Array<{ bytes: number; seconds: number }> } | null;
  scenarios: ScenarioResult[];
  scale: ScaleResult | null;
  roundtrip: RoundtripResult | null;
  goals: Goal[];
  failures: string[];
}

const MiB = 1024 * 1024;
const num = (value: number | null | undefined, digits = 0, scale = 1): string => (value === null || value === undefined ? '–' : (value / scale).toFixed(digits));

function row(variant: VariantSummary): string {
  const m = variant.median;
  const cells = [
    variant.variant,
    `${variant.okRuns}/${variant.runs}`,
    num(m['wallMs'], 2, 1000),
    num(m['totalMs'], 2, 1000),
    num(m['setupMs']),
    num(m['downtimeMs']),
    num(m['maxGapMs']),
    num(m['ramBytes'], 1, MiB),
    num(m['diskBytes'], 1, MiB),
    num(m['wireBytes'], 1, MiB),
    num(m['throughputBps'], 1, MiB),
    num(m['cpuSec'], 2),
    num(m['peakRssMB'], 0),
  ];
  return `| ${cells.join(' | ')} |`;
}

function extras(variant: VariantSummary): string | null {
  const keep = ['maxThrottlePercent', 'passes', 'ferryHeartbeatGapMs', 'postcopySwitchAtMs', 'notConvergingVerdict', 'errors'];
  const phaseKeys = Object.keys(variant.extra).filter((key) => key.startsWith('phase:'));
  const parts = [...keep, ...phaseKeys]
    .filter((key) => variant.extra[key] !== undefined && variant.extra[key] !== null)
    .map((key) => `${key}=${typeof variant.extra[key] === 'number' ? Math.round(variant.extra[key]) : String(variant.extra[key])}`);
  return parts.length > 0 ? `- ${variant.variant}: ${parts.join('; ')}` : null;
}

export function scenarioMarkdown(result: ScenarioResult): string {
  const lines = [
    `### ${result.scenario}: ${result.description}`,
    '',
    '| variant | done | wall s | QEMU total s | setup ms | downtime ms | max heartbeat gap ms | RAM MiB | disk MiB | wire MiB | wire MiB/s | CPU s | peak RSS MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...result.variants.map(row),
  ];
  if (result.bound) {
    const b = result.bound;
    lines.push('', `link-bound: ${num(b.ramBytesNeeded, 1, MiB)} MiB RAM + ${num(b.diskBytesNeeded, 1, MiB)} MiB disk = ${num(b.bytesNeeded, 1, MiB)} MiB at ${num(b.linkBps, 0, MiB)} MiB/s = ${num(b.timeMs, 2, 1000)} s`);
  }
  const ratios = Object.entries(result.ratios).map(([key, value]) => `${key} = ${num(value, 2)}`);
  if (ratios.length > 0) lines.push('', `ratios (medians): ${ratios.join(', ')}`);
  const extraLines = result.variants.map(extras).filter((line): line is string => line !== null);
  if (extraLines.length > 0) lines.push('', ...extraLines);
  for (const note of result.notes) lines.push(`- note: ${note}`);
  return lines.join('\n');
}

export function scaleMarkdown(scale: ScaleResult): string {
  const r = scale.refresh;
  return [
    `### scale: ${scale.vms} QEMU processes on ${scale.hosts.length} hosts`,
    '',
    '| connect + list ms | listed | with live state | warm list ms | refresh median ms | refresh max ms | refresh failures | CPU s / min | CPU % | peak RSS MB |',
    '|---|---|---|---|---|---|---|---|---|---|',
    `| ${scale.connectAndListMs} | ${scale.listedAfterConnect} | ${scale.withState} | ${scale.warmListMs} | ${num(r.medianMs)} | ${num(r.maxMs)} | ${r.failures}/${r.rounds} | ${r.cpuSec.toFixed(2)} | ${r.cpuPercent.toFixed(1)} | ${r.peakRssMB.toFixed(0)} |`,
    ...scale.notes.map((note) => `- note: ${note}`),
  ].join('\n');
}

export function roundtripMarkdown(result: RoundtripResult): string {
  return [
    `### roundtrip: \`true\` on host a, one after another (slow login shell: +${result.slowShellSeconds} s in ~/.bashrc)`,
    '',
    '| login shell | path | commands | median ms | p90 ms | connect + first ms | login shells started |',
    '|---|---|---|---|---|---|---|',
    ...result.rows.map((row) => `| ${row.shell} | ${row.path} | ${row.commands} | ${num(row.medianMs, 2)} | ${num(row.p90Ms, 2)} | ${num(row.firstMs)} | ${row.loginShells ?? '–'} |`),
    '',
    `ratio (medians): host session slow shell / quick shell = ${num(result.slowOverQuick, 2)}`,
  ].join('\n');
}

export function goalsMarkdown(goals: Goal[]): string {
  return ['### goals', '', '| goal | target | measured | met |', '|---|---|---|---|', ...goals.map((g) => `| ${g.goal} | ${g.target} | ${g.measured} | ${g.met === null ? 'n/a' : g.met ? 'yes' : 'NO'} |`)].join('\n');
}

/** Issue 11's goals, checked against the medians of this run. */
export function evaluateGoals(scenarios: ScenarioResult[], scale: ScaleResult | null, roundtrip: RoundtripResult | null = null): Goal[] {
  const goals: Goal[] = [];
  const find = (name: string) => scenarios.find((entry) => entry.scenario === name);
  const ferryOf = (result: ScenarioResult | undefined) => result?.variants.find((variant) => variant.variant === 'ferry');
  const check = (goal: string, target: string, value: number | null | undefined, limit: number, digits = 2) =>
    goals.push({ goal, target, measured: num(value, digits), met: value === null || value === undefined ? null : value <= limit });
  if (roundtrip) {
    const session = (shell: 'quick' | 'slow') => roundtrip.rows.find((row) => row.shell === shell && row.path === 'host session')?.medianMs;
    check('host command round trip, quick login shell (ms)', '≤ 5', session('quick'), 5);
    check(`host command round trip, login shell +${roundtrip.slowShellSeconds} s (ms)`, '≤ 5', session('slow'), 5);
  }
  const live = find('live');
  if (live) {
    check('live: time ferry/tuned', '≤ 1.25', live.ratios['time ferry/tuned'], 1.25);
    check('live: ferry downtime (ms)', '≤ 100', ferryOf(live)?.median['downtimeMs'], 100, 0);
  }
  const block = find('block');
  if (block) {
    check('block: time ferry/tuned', '≤ 1.0', block.ratios['time ferry/tuned'], 1.0);
    check('block: time ferry/libvirt', '≤ 0.5', block.ratios['time ferry/libvirt'], 0.5);
    check('block: wire bytes / bytes needed', '≤ 1.1', block.ratios['wire ferry/needed'], 1.1);
    check('block: ferry downtime (ms)', '≤ 100', ferryOf(block)?.median['downtimeMs'], 100, 0);
    goals.push({ goal: 'block: time ferry-tls/ferry', target: 'reported', measured: num(block.ratios['time ferry-tls/ferry'], 2), met: null });
  }
  const offline = find('offline');
  if (offline) check('offline: time ferry/article', '≤ 1.0', offline.ratios['time ferry/article'], 1.0);
  const dirty = find('dirty');
  if (dirty) {
    // QEMU's pass counter (dirty-sync-count) reads 3 once the second pass is over.
    const advisedAt = ferryOf(dirty)?.extra['notConvergingPass'];
    check('dirty: "not converging" advice at QEMU pass counter', '≤ 3 (second pass over)', typeof advisedAt === 'number' ? advisedAt : null, 3, 0);
  }
  for (const result of scenarios) {
    const p = result.prediction;
    if (!p || p.predicted + p.verdicts === 0) continue;
    if (p.predicted > 0) goals.push({ goal: `${result.scenario}: prediction within ±30 % of total time`, target: 'every run', measured: `${p.within30}/${p.predicted}`, met: p.within30 === p.predicted });
    if (result.scenario === 'dirty') goals.push({ goal: 'dirty: convergence verdict right', target: 'every run', measured: `${p.rightVerdicts}/${p.verdicts}`, met: p.rightVerdicts === p.verdicts });
  }
  const rss = Math.max(...scenarios.flatMap((result) => result.runs.filter((run) => run.variant.startsWith('ferry')).map((run) => run.peakRssMB)), scale?.refresh.peakRssMB ?? 0);
  if (scale) {
    check('scale: engine RSS with 200 VMs (MB)', '≤ 100', scale.refresh.peakRssMB, 100, 0);
    check('scale: 200 VMs over 2 hosts listed, warm (ms)', '≤ 500', scale.warmListMs, 500, 0);
  }
  check('engine peak RSS in any scenario (MB)', 'reported', Number.isFinite(rss) ? rss : null, Number.POSITIVE_INFINITY, 0);
  return goals;
}

export function fullMarkdown(report: BenchReport): string {
  const parts = [`## Ferry benchmark ${report.startedAt}${report.quick ? ' (quick)' : ''}, ${report.reps} repetition(s), medians`, ''];
  parts.push(`machine: ${Object.entries(report.machine).map(([key, value]) => `${key} ${value}`).join(', ')}`);
  if (report.link) parts.push(`link a→b (one TCP stream): ${num(report.link.bps, 0, MiB)} MiB/s`);
  parts.push('');
  for (const scenario of report.scenarios) parts.push(scenarioMarkdown(scenario), '');
  if (report.roundtrip) parts.push(roundtripMarkdown(report.roundtrip), '');
  if (report.scale) parts.push(scaleMarkdown(report.scale), '');
  parts.push(goalsMarkdown(report.goals));
  if (report.failures.length > 0) parts.push('', ...report.failures.map((failure) => `- FAILED scenario ${failure}`));
  return parts.join('\n');
}
