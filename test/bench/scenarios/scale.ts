import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { VmDefinition } from '../../../src-main/core/api/types.js';
import { labEngine } from '../../support/lab-engine.js';
import type { ScaleEngineResult, ScaleTask } from '../scale-engine.js';
import { median } from '../stats.js';
import type { BenchContext } from '../types.js';

export const SCALE_VMS = 200;
const REFRESH_INTERVAL_MS = 2000;
const REFRESH_WINDOW_MS = 60_000;
const PREFIX = 'bench-scale-';

export interface ScaleResult {
  scenario: 'scale';
  vms: number;
  hosts: string[];
  /** hosts.add (SSH connect + host key check) and vms.list on every host, in parallel, fresh engine. */
  connectAndListMs: number;
  listedAfterConnect: number;
  withState: number;
  /** vms.list on both hosts again, connection already up. */
  warmListMs: number;
  refresh: { intervalMs: number; windowMs: number; rounds: number; failures: number; medianMs: number | null; maxMs: number | null; cpuSec: number; cpuPercent: number; peakRssMB: number };
  launchMs: number;
  notes: string[];
}

function definition(name: string, argv: string[], qmpSocket: string): VmDefinition {
  return { name, memoryMiB: 16, vcpus: 1, machineType: 'none', cpuModel: 'qemu64', accel: 'tcg', disks: [], nic: null, createdAt: new Date().toISOString(), adopted: { argv, qmpSocket } };
}

/** One shell script per host that starts its share of QEMUs, each as Ferry lays out a VM. */
function launchScript(names: string[]): string {
  const lines = ['set -e', 'mkdir -p -m 0700 /run/ferry /var/lib/ferry/vms'];
  for (const name of names) {
    const socket = `/run/ferry/${name}.qmp`;
    const argv = ['qemu-system-x86_64', '-name', name, '-machine', 'none', '-m', '16M', '-nodefaults', '-display', 'none', '-qmp', `unix:${socket},server=on,wait=off`, '-pidfile', `/run/ferry/${name}.pid`, '-daemonize'];
    lines.push(`cat > /var/lib/ferry/vms/${name}.json <<'EOF'\n${JSON.stringify(definition(name, argv, socket))}\nEOF`);
    lines.push(argv.join(' '));
  }
  return lines.join('\n') + '\n';
}

const KILL_ALL = `for f in /run/ferry/${PREFIX}*.pid; do [ -e "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; sleep 0.5; rm -f /run/ferry/${PREFIX}* /var/lib/ferry/vms/${PREFIX}*.json; true`;

/**
 * 5. Scale: 200 QEMU processes (-machine none, no guest) with Ferry's socket, pid file and
 * definition, half on each host; a fresh engine connects and lists them; then it lists them
 * every 2 s for a minute while the bench process's CPU and RSS are measured.
 */
export async function scaleScenario(ctx: BenchContext): Promise<ScaleResult> {
  const { le } = ctx;
  const hosts = ['a', 'b'];
  const perHost = SCALE_VMS / hosts.length;
  try {
    ctx.log(`scale: starting ${SCALE_VMS} QEMU processes ...`);
    const launchStart = Date.now();
    await Promise.all(
      hosts.map(async (host, index) => {
        const names = Array.from({ length: perHost }, (_, i) => `${PREFIX}${String(index * perHost + i).padStart(3, '0')}`);
        const transport = await le.engine.transport(host);
        await transport.run('sh', { stdin: launchScript(names), timeoutMs: 300_000 });
      }),
    );
    const launchMs = Date.now() - launchStart;
    ctx.log(`scale: launched in ${launchMs} ms; connecting a fresh engine ...`);

    // A fresh engine in a process of its own (plain Node, no tsx loader), so CPU and RSS are its own.
    const fresh = await labEngine({ addHosts: false });
    await fresh.engine.close();
    const task: ScaleTask = {
      home: fresh.home,
      hosts: hosts.map((name, index) => {
        const lab = fresh.lab.hosts[index];
        if (!lab) throw new Error(`no lab host ${name}`);
        return { name, address: lab.address, port: lab.port, user: lab.user, identityFile: lab.identityFile };
      }),
      prefix: PREFIX,
      intervalMs: REFRESH_INTERVAL_MS,
      windowMs: REFRESH_WINDOW_MS,
    };
    const result = await runScaleEngine(task);
    ctx.log(`scale: connect + list ${result.connectAndListMs} ms, ${result.listedAfterConnect} listed, ${result.withState} with a live state`);
    ctx.log(`scale: refresh median ${median(result.durationsMs)} ms, cpu ${result.cpuSec.toFixed(1)} s/min, peak rss ${result.peakRssMB.toFixed(0)} MB (idle ${result.idleRssMB.toFixed(0)} MB)`);
    return {
      scenario: 'scale',
      vms: SCALE_VMS,
      hosts,
      connectAndListMs: result.connectAndListMs,
      listedAfterConnect: result.listedAfterConnect,
      withState: result.withState,
      warmListMs: result.warmListMs,
      refresh: {
        intervalMs: REFRESH_INTERVAL_MS, windowMs: REFRESH_WINDOW_MS, rounds: result.rounds, failures: result.failures,
        medianMs: median(result.durationsMs), maxMs: result.durationsMs.length ? Math.max(...result.durationsMs) : null,
        cpuSec: result.cpuSec, cpuPercent: (result.cpuSec * 100 * 1000) / REFRESH_WINDOW_MS, peakRssMB: result.peakRssMB,
      },
      launchMs,
      notes: [
        `${perHost} QEMUs (-machine none) per host; vms.list both hosts every ${REFRESH_INTERVAL_MS / 1000} s for ${REFRESH_WINDOW_MS / 1000} s.`,
        `engine in its own plain-Node process (bundled with esbuild): ${result.idleRssMB.toFixed(0)} MB RSS before connecting.`,
      ],
    };
  } finally {
    for (const host of hosts) await le.sh(host, KILL_ALL).catch(() => undefined);
  }
}

/** Bundles scale-engine.ts next to node_modules (packages stay external) and runs it with plain node. */
async function runScaleEngine(task: ScaleTask): Promise<ScaleEngineResult> {
  const outDir = join(process.cwd(), 'test-artifacts', 'bench');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'scale-engine.mjs');
  await build({ entryPoints: [fileURLToPath(new URL('../scale-engine.ts', import.meta.url))], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'warning' });
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [outfile], { env: { ...process.env, FERRY_SCALE_TASK: JSON.stringify(task) }, maxBuffer: 16 * 1024 * 1024, timeout: 600_000 }, (error, out, err) => {
      if (error) reject(new Error(`scale engine failed: ${err || error.message}`));
      else resolve(out);
    });
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as ScaleEngineResult;
}
