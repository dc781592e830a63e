import { FerryEngine } from '../../../src-main/core/engine.js';
import type { VmDefinition, VmSummary } from '../../../src-main/core/api/types.js';
import { labEngine } from '../../support/lab-engine.js';
import { median, ResourceMeter, sleep } from '../stats.js';
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
  let engine: FerryEngine | undefined;
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

    const fresh = await labEngine({ addHosts: false });
    engine = fresh.engine;
    const e = engine;
    const t0 = Date.now();
    const lists = await Promise.all(
      hosts.map(async (host, index) => {
        const lab = fresh.lab.hosts[index];
        if (!lab) throw new Error(`no lab host ${host}`);
        await e.call('hosts.add', { transport: 'ssh', name: host, address: lab.address, port: lab.port, user: lab.user, identityFile: lab.identityFile, useAgent: false });
        return e.call('vms.list', { host });
      }),
    );
    const connectAndListMs = Date.now() - t0;
    const mine = (all: VmSummary[][]) => all.flat().filter((vm) => vm.name.startsWith(PREFIX));
    const listed = mine(lists);
    const withState = listed.filter((vm) => vm.state !== 'unknown' && vm.state !== 'shutoff').length;
    ctx.log(`scale: connect + list ${connectAndListMs} ms, ${listed.length} listed, ${withState} with a live state`);

    const w0 = Date.now();
    await Promise.all(hosts.map((host) => e.call('vms.list', { host })));
    const warmListMs = Date.now() - w0;

    const meter = new ResourceMeter();
    const durations: number[] = [];
    let failures = 0;
    const end = Date.now() + REFRESH_WINDOW_MS;
    while (Date.now() < end) {
      const started = Date.now();
      try {
        const round = await Promise.all(hosts.map((host) => e.call('vms.list', { host })));
        if (mine(round).length !== SCALE_VMS) failures += 1;
      } catch {
        failures += 1;
      }
      durations.push(Date.now() - started);
      await sleep(Math.max(0, REFRESH_INTERVAL_MS - (Date.now() - started)));
    }
    const used = meter.stop();
    ctx.log(`scale: refresh median ${median(durations)} ms, cpu ${used.cpuSec.toFixed(1)} s/min, peak rss ${used.peakRssMB.toFixed(0)} MB`);
    return {
      scenario: 'scale',
      vms: SCALE_VMS,
      hosts,
      connectAndListMs,
      listedAfterConnect: listed.length,
      withState,
      warmListMs,
      refresh: {
        intervalMs: REFRESH_INTERVAL_MS, windowMs: REFRESH_WINDOW_MS, rounds: durations.length, failures,
        medianMs: median(durations), maxMs: durations.length ? Math.max(...durations) : null,
        cpuSec: used.cpuSec, cpuPercent: (used.cpuSec * 100 * 1000) / REFRESH_WINDOW_MS, peakRssMB: used.peakRssMB,
      },
      launchMs,
      notes: [`${perHost} QEMUs (-machine none) per host; vms.list both hosts every ${REFRESH_INTERVAL_MS / 1000} s for ${REFRESH_WINDOW_MS / 1000} s.`],
    };
  } finally {
    await engine?.close().catch(() => undefined);
    for (const host of hosts) await le.sh(host, KILL_ALL).catch(() => undefined);
  }
}
