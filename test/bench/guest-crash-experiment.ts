/**
 * Issue 16 experiment, not part of any test suite: does the lab guest crash right after a
 * migration's switch-over, and under which QEMU, TCG threading, migration mode and disk settings?
 *
 * Boots the lab guest locally with the command line Ferry builds (buildQemuArgv), migrates it to a
 * second local QEMU by hand over QMP in the order live.ts uses (shared disk, or NBD export + mirror +
 * pause-before-switchover), then reads the destination's serial log for `--watch` seconds: the
 * heartbeat going on, a kernel oops/panic (its text is kept), or silence. With --chain the guest is
 * migrated back and forth without rebooting, each hop one trial, so a run costs one boot.
 *
 *   npx tsx test/bench/guest-crash-experiment.ts --runs 30 --mode block --qemu 7.2 --tcg multi
 *
 * The crash is rare on an idle machine; it comes from writes QEMU 7.2 under TCG loses while it
 * copies RAM, and a slow memory stream widens that window. This reproduces it in about half the
 * runs and shows the lost writes directly (--compare-ram), with no need to wait for a crash:
 *
 *   npx tsx test/bench/guest-crash-experiment.ts --runs 8 --chain --watch 5 --compare-ram --dirty 4 --bandwidth 16
 *
 * Only 127.0.0.1 ports 47100-47199 and /tmp/q16-* are used; every QEMU it starts is killed by pid.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { QmpClient, type QmpEvent } from '../../src-main/core/qmp/index.js';
import { buildQemuArgv } from '../../src-main/core/vm/qemu-argv.js';
import { DEFAULT_CPU_MODEL } from '../../src-main/core/api/vm-hardware.js';
import { DEFAULT_DOWNTIME_LIMIT_MS } from '../../src-main/core/api/defaults.js';
import type { VmDefinition } from '../../src-main/core/api/types.js';
import type { VmLayout } from '../../src-main/core/vm/layout.js';

const LAB = '/var/lib/ferry-lab';
const QEMU_TREES: Record<string, { binary: string; dataDir?: string; img: string }> = {
  '7.2': { binary: 'qemu-system-x86_64', img: 'qemu-img' },
  '10.0': { binary: `${LAB}/qemu-10.0/usr/bin/qemu-system-x86_64`, dataDir: `${LAB}/qemu-10.0/usr/share/qemu`, img: `${LAB}/qemu-10.0/usr/bin/qemu-img` },
};
const PORT_BASE = 47100;
const PORT_PAIRS = 50;
const CRASH_PATTERN = /(Oops|BUG:|Kernel panic|general protection fault|page fault|RIP:|Call Trace|watchdog: |rcu: INFO|invalid opcode|stack segment)/;

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    mode: { type: 'string', default: 'block' }, // block | shared
    qemu: { type: 'string', default: '7.2' }, // source QEMU: 7.2 | 10.0
    'dest-qemu': { type: 'string' }, // defaults to --qemu
    tcg: { type: 'string', default: 'multi' }, // multi | single
    cache: { type: 'string', default: 'none' },
    'copy-mode': { type: 'string', default: 'background' }, // background | write-blocking
    dirty: { type: 'string', default: '0' }, // MiB the guest keeps rewriting
    memory: { type: 'string', default: '256' },
    // e.g. 262148K: a RAM size that is not a multiple of 64 pages makes QEMU 7.2 sync its dirty
    // bitmap page by page (with the TCG TLB reset) instead of 64 pages at a time.
    'ram-size': { type: 'string' },
    watch: { type: 'string', default: '20' },
    chain: { type: 'boolean', default: false },
    order: { type: 'string', default: 'ferry' }, // ferry | cont-before-nbd-stop
    // Runs every QEMU on this one CPU: its vCPU thread then competes with its migration thread,
    // as on a loaded host, which widens the time between a dirty-bitmap sync and the stop.
    'pin-cpu': { type: 'string' },
    // Saves guest RAM on both sides after the switch-over (source stopped, destination not yet
    // continued) and counts the pages that differ: a write the migration lost, seen directly.
    'compare-ram': { type: 'boolean', default: false },
    // MiB/s for the memory stream (Ferry's --bandwidth); unset = unlimited, as Ferry's default.
    bandwidth: { type: 'string' },
    label: { type: 'string' },
    results: { type: 'string', default: '/tmp/q16-results' },
  },
});

type Outcome = 'ok' | 'oops' | 'silent' | 'dest-died' | 'migration-failed';

interface Trial {
  variant: string;
  trial: number;
  outcome: Outcome;
  detail: string;
  heartbeatsAfter: number;
  downtimeMs?: number;
  /** With --compare-ram: guest pages whose contents differ between source and destination. */
  differingPages?: number;
  differingSample?: string[];
}

const sourceQemu = opts.qemu;
const destQemu = opts['dest-qemu'] ?? opts.qemu;
const variant = opts.label ?? `qemu=${sourceQemu}->${destQemu} tcg=${opts.tcg} mode=${opts.mode} cache=${opts.cache}${opts.mode === 'block' ? ` copy-mode=${opts['copy-mode']}` : ''} dirty=${opts.dirty}${opts['ram-size'] ? ` ram=${opts['ram-size']}` : ''}${opts.bandwidth ? ` bw=${opts.bandwidth}MiB/s` : ''}${opts['pin-cpu'] !== undefined ? ` pin=${opts['pin-cpu']}` : ''}${opts.chain ? ' chain' : ''}${opts.order !== 'ferry' ? ` order=${opts.order}` : ''}`;
mkdirSync(opts.results, { recursive: true });
const resultFile = join(opts.results, 'trials.jsonl');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
let portPair = Math.floor(Math.random() * PORT_PAIRS);
const nextPorts = () => {
  portPair = (portPair + 1) % PORT_PAIRS;
  return { nbd: PORT_BASE + 2 * portPair, migration: PORT_BASE + 2 * portPair + 1 };
};

/** One local QEMU: its own directory, process and monitor. */
class Guest {
  readonly layout: VmLayout;
  process: ChildProcess | undefined;
  qmp: QmpClient | undefined;
  exited = false;
  readonly events: QmpEvent[] = [];

  constructor(readonly dir: string, readonly version: string, readonly diskPath: string) {
    this.layout = {
      definition: join(dir, 'vm.json'),
      qmpSocket: join(dir, 'qmp.sock'),
      pidFile: join(dir, 'qemu.pid'),
      vncSocket: join(dir, 'vnc.sock'),
      serialSocket: join(dir, 'serial.sock'),
      serialLog: join(dir, 'serial.log'),
    };
  }

  argv(incoming: boolean): string[] {
    const definition: VmDefinition = {
      name: 'q16',
      memoryMiB: Number(opts.memory),
      vcpus: 1,
      machineType: 'pc-q35-7.2',
      cpuModel: DEFAULT_CPU_MODEL,
      accel: 'tcg',
      disks: [{ path: this.diskPath, format: 'qcow2', cache: opts.cache as VmDefinition['disks'][number]['cache'] }],
      nic: null,
      nics: [{ model: 'virtio-net-pci', mac: '52:54:00:16:16:16', network: { type: 'user' } }],
      display: 'none',
      kernel: { path: `${LAB}/guest/vmlinuz`, initrd: `${LAB}/guest/initrd.img`, append: `console=ttyS0 quiet ferry.dirty_mib=${opts.dirty}` },
      createdAt: '2026-01-01T00:00:00Z',
    };
    const argv = buildQemuArgv(definition, this.layout, { kvmUsable: false, incoming });
    const tree = QEMU_TREES[this.version];
    if (!tree) throw new Error(`unknown QEMU version ${this.version}`);
    // Run in the foreground so the process is ours to kill by pid.
    const out = argv.filter((arg) => arg !== '-daemonize');
    out[0] = tree.binary;
    if (tree.dataDir) out.splice(1, 0, '-L', tree.dataDir);
    if (opts.tcg === 'single') out[out.indexOf('tcg')] = 'tcg,thread=single';
    if (opts['ram-size']) out[out.indexOf('-m') + 1] = opts['ram-size'];
    // taskset execs QEMU, so the spawned pid stays QEMU's.
    if (opts['pin-cpu'] !== undefined) out.unshift('taskset', '-c', opts['pin-cpu']);
    return out;
  }

  async start(incoming: boolean): Promise<void> {
    const argv = this.argv(incoming);
    writeFileSync(join(this.dir, 'argv.txt'), argv.join(' ') + '\n');
    const [binary, ...args] = argv;
    const child = spawn(binary ?? '', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => appendFileSync(join(this.dir, 'stderr.txt'), chunk));
    child.on('exit', () => (this.exited = true));
    this.process = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const stream = createConnection(this.layout.qmpSocket);
        await new Promise<void>((resolve, reject) => stream.once('connect', resolve).once('error', reject));
        this.qmp = await QmpClient.connect(stream, { timeoutMs: 10_000, commandTimeoutMs: 120_000 });
        this.qmp.on('event', (event) => this.events.push(event));
        return;
      } catch (error) {
        if (this.exited || Date.now() > deadline) throw new Error(`QEMU ${this.version} did not open its monitor: ${String(error)} ${this.stderr()}`);
        await sleep(100);
      }
    }
  }

  cmd<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (!this.qmp) throw new Error('no monitor');
    return this.qmp.execute<T>(command, args);
  }

  async event(name: string, match: (data: Record<string, unknown>) => boolean, timeoutMs: number): Promise<QmpEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((event) => event.event === name && match((event.data ?? {}) as Record<string, unknown>));
      if (found) return found;
      if (this.exited) throw new Error(`QEMU exited waiting for ${name}: ${this.stderr()}`);
      if (Date.now() > deadline) throw new Error(`no ${name} within ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  serial(): string {
    return existsSync(this.layout.serialLog) ? readFileSync(this.layout.serialLog, 'latin1') : '';
  }

  stderr(): string {
    const file = join(this.dir, 'stderr.txt');
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  }

  async kill(): Promise<void> {
    await this.qmp?.close().catch(() => undefined);
    const pid = this.process?.pid;
    if (pid !== undefined && !this.exited) {
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 50 && !this.exited; i++) await sleep(20);
    }
  }
}

const heartbeats = (text: string) => [...text.matchAll(/ferry-heartbeat (\d+) disk=(\d+)/g)].map((m) => ({ n: Number(m[1]), disk: Number(m[2]) }));

async function capabilities(source: Guest, destination: Guest, block: boolean): Promise<void> {
  // What capabilities.ts sets for these options.
  const known = async (guest: Guest) => new Set((await guest.cmd<Array<{ capability: string }>>('query-migrate-capabilities')).map((c) => c.capability));
  const set = async (guest: Guest, wanted: string[]) => {
    const have = await known(guest);
    const managed = ['events', 'return-path', 'pause-before-switchover', 'late-block-activate', 'postcopy-ram', 'multifd', 'auto-converge'];
    await guest.cmd('migrate-set-capabilities', { capabilities: managed.filter((c) => have.has(c)).map((capability) => ({ capability, state: wanted.includes(capability) })) });
  };
  await set(source, ['events', 'return-path', ...(block ? ['pause-before-switchover'] : [])]);
  await set(destination, ['events', 'return-path', 'late-block-activate']);
  await source.cmd('migrate-set-parameters', { 'tls-creds': '', 'max-bandwidth': opts.bandwidth ? Number(opts.bandwidth) * 1024 * 1024 : 0, 'downtime-limit': DEFAULT_DOWNTIME_LIMIT_MS });
  await destination.cmd('migrate-set-parameters', { 'tls-creds': '' });
}

/** One migration from a running `source` to a new QEMU; returns the destination, running. */
async function migrate(source: Guest, hop: number, baseDir: string): Promise<{ destination: Guest; downtimeMs?: number }> {
  const block = opts.mode === 'block';
  const dir = join(baseDir, `hop${hop}`);
  mkdirSync(dir);
  const tree = QEMU_TREES[destQemu];
  if (!tree) throw new Error(`unknown QEMU ${destQemu}`);
  let diskPath = source.diskPath;
  if (block) {
    diskPath = join(dir, 'disk.qcow2');
    const size = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', source.diskPath], { encoding: 'utf8' })) as { 'virtual-size': number };
    execFileSync(tree.img, ['create', '-q', '-f', 'qcow2', '-o', 'compat=1.1', diskPath, String(size['virtual-size'])]);
  }
  // In a chain the way back runs the source's version (both are the same then).
  const destination = new Guest(dir, hop % 2 === 1 || !opts.chain ? destQemu : sourceQemu, diskPath);
  await destination.start(true);
  await capabilities(source, destination, block);
  const ports = nextPorts();
  if (block) {
    await destination.cmd('nbd-server-start', { addr: { type: 'inet', data: { host: '127.0.0.1', port: String(ports.nbd) } } });
    await destination.cmd('block-export-add', { type: 'nbd', id: 'ferry-disk0', 'node-name': 'ferry-disk0', name: 'ferry-disk0', writable: true });
  }
  await destination.cmd('migrate-incoming', { uri: `tcp:127.0.0.1:${ports.migration}` });
  if (block) {
    await source.cmd('blockdev-add', { driver: 'nbd', 'node-name': 'ferry-nbd0', server: { type: 'inet', host: '127.0.0.1', port: String(ports.nbd) }, export: 'ferry-disk0' });
    await source.cmd('blockdev-mirror', {
      'job-id': 'ferry-mirror0', device: 'ferry-disk0', target: 'ferry-nbd0', sync: 'full', 'auto-finalize': true, 'auto-dismiss': false,
      ...(opts['copy-mode'] === 'write-blocking' ? { 'copy-mode': 'write-blocking' } : {}),
    });
    await source.event('BLOCK_JOB_READY', (d) => d.device === 'ferry-mirror0', 120_000);
  }
  source.events.length = 0;
  await source.cmd('migrate', { uri: `tcp:127.0.0.1:${ports.migration}` });
  if (block) {
    await source.event('MIGRATION', (d) => d.status === 'pre-switchover' || d.status === 'failed', 120_000);
    await source.cmd('block-job-cancel', { device: 'ferry-mirror0' });
    await source.event('JOB_STATUS_CHANGE', (d) => d.id === 'ferry-mirror0' && d.status === 'concluded', 60_000);
    await source.cmd('migrate-continue', { state: 'pre-switchover' });
    await source.cmd('job-dismiss', { id: 'ferry-mirror0' });
    await source.cmd('blockdev-del', { 'node-name': 'ferry-nbd0' });
  }
  const final = await source.event('MIGRATION', (d) => d.status === 'completed' || d.status === 'failed' || d.status === 'cancelled', 120_000);
  if (final.data?.status !== 'completed') throw new Error(`migration ${String(final.data?.status)}`);
  const info = await source.cmd<{ downtime?: number }>('query-migrate');
  await destination.event('MIGRATION', (d) => d.status === 'completed', 30_000);
  const ram = opts['compare-ram'] ? await compareRam(source, destination, dir) : undefined;
  if (block && opts.order === 'ferry') await destination.cmd('nbd-server-stop');
  await destination.cmd('cont');
  if (block && opts.order !== 'ferry') await destination.cmd('nbd-server-stop');
  const status = await destination.cmd<{ status: string }>('query-status');
  if (status.status !== 'running') throw new Error(`destination is ${status.status}`);
  await source.cmd('quit').catch(() => undefined);
  await source.kill();
  return { destination, ...(info.downtime !== undefined ? { downtimeMs: info.downtime } : {}), ...(ram ?? {}) };
}

const PAGE = 4096;

/** Both guests are stopped here, so their RAM must be identical page for page. */
async function compareRam(source: Guest, destination: Guest, dir: string): Promise<{ differingPages: number; differingSample: string[] }> {
  const size = Number(opts.memory) * 1024 * 1024;
  const files = [join(dir, 'ram-source.bin'), join(dir, 'ram-destination.bin')] as const;
  await source.cmd('pmemsave', { val: 0, size, filename: files[0] });
  await destination.cmd('pmemsave', { val: 0, size, filename: files[1] });
  const [a, b] = files.map((file) => readFileSync(file));
  files.forEach((file) => rmSync(file));
  const differing: string[] = [];
  const report: string[] = [];
  for (let offset = 0; a && b && offset < size; offset += PAGE) {
    if (a.compare(b, offset, offset + PAGE, offset, offset + PAGE) === 0) continue;
    differing.push(`0x${offset.toString(16)}`);
    // Which bytes: a lost write shows as the source's newer bytes missing on the destination.
    const bytes = [];
    for (let i = offset; i < offset + PAGE; i++) if (a[i] !== b[i]) bytes.push(i);
    report.push(`page 0x${offset.toString(16)}: ${bytes.length} bytes differ, first at 0x${(bytes[0] ?? 0).toString(16)}`);
    const first = (bytes[0] ?? offset) & ~15;
    report.push(`  source      ${a.subarray(first, first + 32).toString('hex')}`, `  destination ${b.subarray(first, first + 32).toString('hex')}`);
  }
  if (report.length > 0) writeFileSync(join(opts.results, `ram-diff-${Date.now()}.txt`), `${variant}\n${report.join('\n')}\n`);
  return { differingPages: differing.length, differingSample: differing.slice(0, 8) };
}

/** Reads the destination's serial log for the watch window and says what the guest did. */
async function watchDestination(destination: Guest, hop: number, baseDir: string): Promise<Omit<Trial, 'variant' | 'trial'>> {
  const watchMs = Number(opts.watch) * 1000;
  const start = Date.now();
  let crashAt = -1;
  while (Date.now() - start < watchMs) {
    await sleep(500);
    const text = destination.serial();
    if (crashAt < 0 && CRASH_PATTERN.test(text)) crashAt = Date.now();
    // Give the oops two seconds to be printed whole, then stop watching.
    if (crashAt > 0 && Date.now() - crashAt > 2_000) break;
    if (destination.exited) break;
  }
  const text = destination.serial();
  const beats = heartbeats(text);
  const crashFile = join(opts.results, `crash-${Date.now()}-hop${hop}.txt`);
  if (CRASH_PATTERN.test(text)) {
    writeFileSync(crashFile, `${variant}\n${baseDir}\n---\n${text}`);
    return { outcome: 'oops', detail: crashFile, heartbeatsAfter: beats.length };
  }
  if (destination.exited) return { outcome: 'dest-died', detail: destination.stderr(), heartbeatsAfter: beats.length };
  // The heartbeat is every 0.2 s, but on a loaded 2-core machine a TCG guest can lag by seconds:
  // silent means no new heartbeat for 10 s more.
  const before = beats.length;
  let after = before;
  for (let waited = 0; waited < 10_000 && after <= before; waited += 500) {
    await sleep(500);
    after = heartbeats(destination.serial()).length;
  }
  if (after <= before) {
    writeFileSync(crashFile, `${variant}\n${baseDir}\nSILENT\n---\n${destination.serial()}`);
    return { outcome: 'silent', detail: crashFile, heartbeatsAfter: after };
  }
  const disks = beats.map((b) => b.disk);
  const diskMoving = (disks.at(-1) ?? 0) > (disks[0] ?? 0);
  return { outcome: 'ok', detail: diskMoving ? 'disk records advancing' : 'disk records STUCK', heartbeatsAfter: after };
}

async function bootSource(baseDir: string): Promise<Guest> {
  const dir = join(baseDir, 'boot');
  mkdirSync(dir);
  const disk = join(dir, 'disk.qcow2');
  execFileSync(QEMU_TREES[sourceQemu]?.img ?? 'qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
  const guest = new Guest(dir, sourceQemu, disk);
  await guest.start(false);
  const deadline = Date.now() + 90_000;
  while (heartbeats(guest.serial()).filter((b) => b.disk > 0).length < 5) {
    if (guest.exited || Date.now() > deadline) throw new Error(`guest did not boot: ${guest.stderr()} ${guest.serial().slice(-500)}`);
    await sleep(250);
  }
  return guest;
}

async function main(): Promise<void> {
  const runs = Number(opts.runs);
  const tally = new Map<Outcome, number>();
  let trialsWithLostPages = 0;
  let trial = 0;
  const record = (result: Omit<Trial, 'variant' | 'trial'>) => {
    trial++;
    const row: Trial = { variant, trial, ...result };
    tally.set(row.outcome, (tally.get(row.outcome) ?? 0) + 1);
    if ((row.differingPages ?? 0) > 0) trialsWithLostPages++;
    appendFileSync(resultFile, JSON.stringify(row) + '\n');
    console.log(`[${new Date().toISOString().slice(11, 19)}] ${variant} #${trial}: ${row.outcome} (${row.detail}) beats=${row.heartbeatsAfter} downtime=${row.downtimeMs ?? '-'}${row.differingPages !== undefined ? ` differing-pages=${row.differingPages} ${row.differingSample?.join(',') ?? ''}` : ''}`);
  };
  while (trial < runs) {
    const baseDir = mkdtempSync('/tmp/q16-');
    const live: Guest[] = [];
    try {
      let current = await bootSource(baseDir);
      live.push(current);
      for (let hop = 1; trial < runs; hop++) {
        let moved: Awaited<ReturnType<typeof migrate>>;
        try {
          moved = await migrate(current, hop, baseDir);
        } catch (error) {
          record({ outcome: 'migration-failed', detail: String(error).slice(0, 300), heartbeatsAfter: 0 });
          break;
        }
        live.push(moved.destination);
        current = moved.destination;
        const result = await watchDestination(current, hop, baseDir);
        const { destination: _moved, ...measured } = moved;
        record({ ...result, ...measured });
        if (result.outcome !== 'ok' || !opts.chain || sourceQemu !== destQemu) break;
      }
    } finally {
      for (const guest of live) await guest.kill();
      rmSync(baseDir, { recursive: true, force: true });
    }
  }
  console.log(`SUMMARY ${variant}: runs=${trial} ${[...tally].map(([k, v]) => `${k}=${v}`).join(' ')}${opts['compare-ram'] ? ` ram-differs=${trialsWithLostPages}` : ''}`);
}

await main();
