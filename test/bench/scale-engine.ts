/**
 * The engine side of the scale scenario, run as its own plain-Node process (bundled by esbuild, no
 * tsx loader) so that its CPU time and RSS are the engine's and nothing else's. Reads its task from
 * FERRY_SCALE_TASK and prints one JSON result line.
 */
import { join } from 'node:path';
import { FerryEngine } from '../../src-main/core/engine.js';
import type { VmSummary } from '../../src-main/core/api/types.js';

export interface ScaleTask {
  home: string;
  hosts: Array<{ name: string; address: string; port: number; user: string; identityFile: string }>;
  prefix: string;
  intervalMs: number;
  windowMs: number;
}

export interface ScaleEngineResult {
  connectAndListMs: number;
  listedAfterConnect: number;
  withState: number;
  warmListMs: number;
  rounds: number;
  failures: number;
  durationsMs: number[];
  cpuSec: number;
  peakRssMB: number;
  idleRssMB: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const task = JSON.parse(process.env['FERRY_SCALE_TASK'] ?? '') as ScaleTask;
  const idleRssMB = process.memoryUsage().rss / 1e6;
  let peakRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const engine = new FerryEngine({ home: task.home, userKnownHosts: null, sshConfigPath: join(task.home, 'no-ssh-config') });
  const mine = (lists: VmSummary[][]) => lists.flat().filter((vm) => vm.name.startsWith(task.prefix));
  const listAll = () => Promise.all(task.hosts.map((host) => engine.call('vms.list', { host: host.name })));
  try {
    const t0 = Date.now();
    const first = await Promise.all(
      task.hosts.map(async (host) => {
        await engine.call('hosts.add', { transport: 'ssh', name: host.name, address: host.address, port: host.port, user: host.user, identityFile: host.identityFile, useAgent: false });
        return engine.call('vms.list', { host: host.name });
      }),
    );
    const connectAndListMs = Date.now() - t0;
    const listed = mine(first);
    const w0 = Date.now();
    await listAll();
    const warmListMs = Date.now() - w0;
    const expected = listed.length;
    const cpuStart = process.cpuUsage();
    const durationsMs: number[] = [];
    let failures = 0;
    const end = Date.now() + task.windowMs;
    while (Date.now() < end) {
      const started = Date.now();
      try {
        if (mine(await listAll()).length !== expected) failures += 1;
      } catch {
        failures += 1;
      }
      durationsMs.push(Date.now() - started);
      await sleep(Math.max(0, task.intervalMs - (Date.now() - started)));
    }
    const cpu = process.cpuUsage(cpuStart);
    const result: ScaleEngineResult = {
      connectAndListMs,
      listedAfterConnect: listed.length,
      withState: listed.filter((vm) => vm.state !== 'unknown' && vm.state !== 'shutoff').length,
      warmListMs,
      rounds: durationsMs.length,
      failures,
      durationsMs,
      cpuSec: (cpu.user + cpu.system) / 1e6,
      peakRssMB: Math.max(peakRss, process.memoryUsage().rss) / 1e6,
      idleRssMB,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    clearInterval(rssTimer);
    await engine.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
