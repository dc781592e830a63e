/**
 * `npm run bench [-- --quick] [-- --reps N] [-- --only block,live,...]`
 *
 * Measures Ferry's migrations on the two-host lab side by side with the seed article's procedure
 * by hand ("article"), the best hand-written QMP sequence ("tuned") and the raw link ("link"),
 * then prints Markdown tables and writes a JSON file under test-artifacts/bench/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { labEngine } from '../support/lab-engine.js';
import { measureBytesNeeded, measureLink, type BytesNeeded, type LinkResult } from './baselines/link.js';
import { STANDARD_GUEST } from './guest-setup.js';
import { evaluateGoals, fullMarkdown, type BenchReport } from './report.js';
import { blockScenario } from './scenarios/block.js';
import { dirtyScenario } from './scenarios/dirty.js';
import { liveScenario } from './scenarios/live.js';
import { offlineScenario } from './scenarios/offline.js';
import { roundtripScenario, type RoundtripResult } from './scenarios/roundtrip.js';
import { scaleScenario, type ScaleResult } from './scenarios/scale.js';
import type { BenchContext, ScenarioResult } from './types.js';

const ALL = ['roundtrip', 'block', 'live', 'offline', 'dirty', 'scale'] as const;
type ScenarioName = (typeof ALL)[number];

interface Args {
  quick: boolean;
  reps: number;
  only: ScenarioName[];
}

function parseArgs(argv: string[]): Args {
  const quick = argv.includes('--quick');
  const repsAt = argv.indexOf('--reps');
  const reps = repsAt >= 0 ? Number(argv[repsAt + 1]) : quick ? 1 : 3;
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps takes a positive integer');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',') : quick ? ['roundtrip', 'block', 'live'] : [...ALL];
  const unknown = only.filter((name) => !(ALL as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${ALL.join(', ')}`);
  return { quick, reps, only: only as ScenarioName[] };
}

function machine(): Record<string, string | number> {
  const qemu = execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  return { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), qemu: qemu.replace(/^QEMU emulator version /, ''), node: process.version };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const log = (line: string) => process.stderr.write(`[bench ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  const le = await labEngine();
  const ctx: BenchContext = { le, quick: args.quick, reps: args.reps, log };
  log(`lab up (guest accel ${le.lab.guest.accel}); scenarios ${args.only.join(', ')}, ${args.reps} repetition(s)`);
  const scenarios: ScenarioResult[] = [];
  let scale: ScaleResult | null = null;
  let roundtrip: RoundtripResult | null = null;
  let link: LinkResult | null = null;
  const failures: string[] = [];
  try {
    const migrating = args.only.some((name) => name !== 'scale' && name !== 'roundtrip');
    let needed: BytesNeeded | null = null;
    if (migrating) {
      link = await measureLink(ctx);
      log(`link a→b: ${(link.bps / 1048576).toFixed(0)} MiB/s (${link.samples.map((s) => `${(s.bytes / 1048576).toFixed(0)} MiB in ${s.seconds.toFixed(2)} s`).join(', ')})`);
      needed = await measureBytesNeeded(ctx, STANDARD_GUEST);
      log(`bytes needed: RAM ${(needed.ramBytes / 1048576).toFixed(1)} MiB non-zero (stream ${(needed.ramStreamBytes / 1048576).toFixed(1)} MiB), disk ${(needed.diskBytes / 1048576).toFixed(1)} MiB`);
    }
    for (const name of args.only) {
      // One scenario failing (the shared lab is busy) must not lose the others' numbers.
      try {
        if (name === 'roundtrip') {
          roundtrip = await roundtripScenario(ctx);
          continue;
        }
        if (name === 'scale') {
          if (!args.quick) scale = await scaleScenario(ctx);
          continue;
        }
        if (!needed || !link) continue;
        if (name === 'block') scenarios.push(await blockScenario(ctx, needed, link));
        if (name === 'live') scenarios.push(await liveScenario(ctx, needed, link));
        if (name === 'offline') scenarios.push(await offlineScenario(ctx, needed, link));
        if (name === 'dirty') scenarios.push(await dirtyScenario(ctx));
      } catch (error) {
        log(`${name}: scenario failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    await le.engine.close().catch(() => undefined);
  }
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    quick: args.quick,
    reps: args.reps,
    machine: { ...machine(), guestAccel: le.lab.guest.accel },
    link,
    scenarios,
    scale,
    roundtrip,
    goals: evaluateGoals(scenarios, scale, roundtrip),
    failures,
  };
  const dir = join(process.cwd(), 'test-artifacts', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}${args.quick ? '-quick' : ''}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(fullMarkdown(report) + '\n\n');
  process.stdout.write(`JSON: ${file}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
