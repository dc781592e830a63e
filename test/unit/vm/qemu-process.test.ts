/**
 * The pid-file scripts run for real under dash (LocalTransport's /bin/sh) and bash (the login
 * shell of root on the hosts) against real processes. A fake QEMU is /bin/sh started through a
 * link named qemu-system-x86_64, so its command line looks like a VM's.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isFerryError } from '../../../src-main/core/errors.js';
import { LocalTransport } from '../../../src-main/core/ssh/local.js';
import {
  expectVm,
  identityPatterns,
  parseStopOutcome,
  processIsScript,
  stopProcess,
  stopProcessScript,
  verifiedPids,
  verifiedPidsScript,
  type ExpectedProcess,
} from '../../../src-main/core/vm/qemu-process.js';

let dir: string;
let fakeQemu: string;
let fakeNbd: string;
const transport = new LocalTransport('unit');
const started: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-qemu-process-'));
  fakeQemu = join(dir, 'qemu-system-x86_64');
  fakeNbd = join(dir, 'qemu-nbd');
  symlinkSync('/bin/sh', fakeQemu);
  symlinkSync('/bin/sh', fakeNbd);
});

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await transport.close();
});

function startProcess(program: string, args: string[]): ChildProcess {
  const child = spawn(program, args, { stdio: 'ignore' });
  started.push(child);
  if (child.pid === undefined) throw new Error(`could not start ${program}`);
  return child;
}

/** A process whose command line reads like Ferry's QEMU for `name`; `body` is what it runs. */
function startFakeVm(name: string, body = 'while :; do sleep 0.1; done'): ChildProcess {
  return startProcess(fakeQemu, ['-c', body, '-name', `guest=${name},process=ferry-${name}`]);
}

function pidFileFor(child: ChildProcess, file: string): string {
  const path = join(dir, file);
  writeFileSync(path, `${child.pid}\n`);
  return path;
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && spawnSync('kill', ['-0', String(child.pid)]).status === 0;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 100 && !condition(); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(condition()).toBe(true);
}

/** A pid that belonged to a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = startProcess('true', []);
  await exited(child);
  return child.pid ?? 0;
}

/**
 * Runs a script in a named shell (dash as /bin/sh, and bash) and returns its stdout and status.
 * Asynchronously: the fake processes are this process's children, and only a running event loop
 * reaps them once they exit, as init reaps a daemonized QEMU.
 */
async function runIn(shell: 'sh' | 'bash', script: string): Promise<{ stdout: string; status: number | null }> {
  const child = spawn(shell, ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { stdout, status };
}

describe('verifiedPidsScript', () => {
  it.each(['sh', 'bash'] as const)('reports only pid files whose process is that VM\'s QEMU (%s)', async (shell) => {
    const vm1 = startFakeVm('vm1');
    const vm10 = startFakeVm('vm10');
    const stranger = startProcess('sleep', ['600']);
    const checks = [
      { label: 'vm1', pidFile: pidFileFor(vm1, 'vm1.pid'), expect: expectVm('vm1') },
      // vm10's QEMU runs, but vm1x's pid file names it: a different guest name is not a match.
      { label: 'vm1x', pidFile: pidFileFor(vm10, 'vm1x.pid'), expect: expectVm('vm1x') },
      { label: 'recycled', pidFile: pidFileFor(stranger, 'recycled.pid'), expect: expectVm('recycled') },
      { label: 'dead', pidFile: join(dir, 'dead.pid'), expect: expectVm('dead') },
      { label: 'garbage', pidFile: join(dir, 'garbage.pid'), expect: expectVm('garbage') },
      { label: 'missing', pidFile: join(dir, 'missing.pid'), expect: expectVm('missing') },
    ];
    writeFileSync(join(dir, 'dead.pid'), `${await deadPid()}\n`);
    writeFileSync(join(dir, 'garbage.pid'), 'not a pid\n');
    const { stdout, status } = await runIn(shell, verifiedPidsScript(checks));
    expect(status).toBe(0);
    expect(stdout).toBe(`vm1 ${vm1.pid}\n`);
  });

  it('does not take the shell running the check for the VM, although its script names the VM', () => {
    // The shell writes its own pid into the pid file, then runs the check with the VM's name in
    // its command line; only the split literals keep it from matching itself.
    const pidFile = join(dir, 'self.pid');
    const script = `echo $$ > ${pidFile}; ${verifiedPidsScript([{ label: 'self', pidFile, expect: expectVm('self') }])}`;
    for (const shell of ['/bin/sh', '/bin/bash']) {
      const link = join(dir, `qemu-system-${shell.slice(5)}`);
      if (!existsSync(link)) symlinkSync(shell, link);
      const result = spawnSync(link, ['-c', script], { encoding: 'utf8' });
      expect(result.status).toBe(0);
      expect(result.stdout).toBe('');
    }
  });

  it('recognises an adopted QEMU by its monitor socket, and only when told the socket', async () => {
    const socket = join(dir, 'hand made.qmp');
    const hand = startProcess(fakeQemu, ['-c', 'while :; do sleep 0.1; done', '-qmp', `unix:${socket},server=on,wait=off`]);
    const pidFile = pidFileFor(hand, 'hand.pid');
    expect(await verifiedPids(transport, [{ label: 'hand', pidFile, expect: expectVm('hand', socket) }])).toEqual(new Map([['hand', hand.pid]]));
    expect(await verifiedPids(transport, [{ label: 'hand', pidFile, expect: expectVm('hand') }])).toEqual(new Map());
    expect(await verifiedPids(transport, [{ label: 'hand', pidFile, expect: expectVm('hand', join(dir, 'other.qmp')) }])).toEqual(new Map());
  });

  it('checks 100 VMs in one round trip, quickly', async () => {
    const checks = Array.from({ length: 100 }, (_, index) => {
      const name = `many${index}`;
      return { label: name, pidFile: pidFileFor(startFakeVm(name), `${name}.pid`), expect: expectVm(name) };
    });
    const startedAt = performance.now();
    const pids = await verifiedPids(transport, checks);
    const elapsedMs = performance.now() - startedAt;
    expect(pids.size).toBe(100);
    // Measured ~70 ms under dash (it reads byte by byte) and ~10 ms under bash on 2 cores; a
    // fork per VM would cost several times that on a loaded host.
    expect(elapsedMs).toBeLessThan(2_000);
  });
});

describe('processIsScript', () => {
  it('exits 0 only for the expected live process', async () => {
    const vm = startFakeVm('alive1');
    const stranger = startProcess('sleep', ['600']);
    expect((await transport.exec(processIsScript(pidFileFor(vm, 'alive1.pid'), expectVm('alive1')))).code).toBe(0);
    expect((await transport.exec(processIsScript(pidFileFor(stranger, 'alive2.pid'), expectVm('alive2')))).code).toBe(1);
    expect((await transport.exec(processIsScript(join(dir, 'nothing.pid'), expectVm('alive3')))).code).toBe(1);
  });
});

describe('stopProcessScript', () => {
  it.each(['sh', 'bash'] as const)('terminates the VM\'s QEMU and removes its pid file (%s)', async (shell) => {
    const vm = startFakeVm('term1');
    const pidFile = pidFileFor(vm, 'term1.pid');
    const { stdout } = await runIn(shell, stopProcessScript({ pidFile, expect: expectVm('term1'), graceSeconds: 5 }));
    expect(parseStopOutcome(stdout)).toEqual({ result: 'terminated', pid: vm.pid });
    await exited(vm);
    expect(vm.signalCode).toBe('SIGTERM');
    expect(existsSync(pidFile)).toBe(false);
  });

  it.each(['sh', 'bash'] as const)('leaves a recycled pid alone: nothing signalled, stale pid file removed (%s)', async (shell) => {
    const stranger = startProcess('sleep', ['600']);
    const pidFile = pidFileFor(stranger, 'stale1.pid');
    const { stdout } = await runIn(shell, stopProcessScript({ pidFile, expect: expectVm('stale1'), waitSeconds: 1, graceSeconds: 1 }));
    expect(parseStopOutcome(stdout)).toEqual({ result: 'stale', pid: stranger.pid, alive: true });
    expect(alive(stranger)).toBe(true);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('reports a pid file of a dead process as stale and not alive, and one with no pid as absent', async () => {
    const pid = await deadPid();
    const pidFile = join(dir, 'gone1.pid');
    writeFileSync(pidFile, `${pid}\n`);
    expect(await stopProcess(transport, { pidFile, expect: expectVm('gone1'), graceSeconds: 1 })).toEqual({ result: 'stale', pid, alive: false });
    expect(existsSync(pidFile)).toBe(false);
    expect(await stopProcess(transport, { pidFile, expect: expectVm('gone1'), graceSeconds: 1 })).toEqual({ result: 'absent' });
  });

  it('waits for a process that exits by itself without signalling it', async () => {
    const vm = startFakeVm('self1', 'sleep 0.4');
    const pidFile = pidFileFor(vm, 'self1.pid');
    const startedAt = performance.now();
    const outcome = await stopProcess(transport, { pidFile, expect: expectVm('self1'), waitSeconds: 10, graceSeconds: 1 });
    expect(outcome).toEqual({ result: 'exited', pid: vm.pid });
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    await exited(vm);
    expect(vm.exitCode).toBe(0);
  });

  it('kills a process that ignores SIGTERM once the grace period is over, bounded by the clock', async () => {
    const vm = startFakeVm('stubborn1', 'trap "" TERM; while :; do sleep 0.1; done');
    const pidFile = pidFileFor(vm, 'stubborn1.pid');
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the trap be set
    const startedAt = performance.now();
    const outcome = await stopProcess(transport, { pidFile, expect: expectVm('stubborn1'), waitSeconds: 0.3, graceSeconds: 0.5 });
    const elapsedMs = performance.now() - startedAt;
    expect(outcome).toEqual({ result: 'killed', pid: vm.pid });
    expect(elapsedMs).toBeGreaterThanOrEqual(700);
    expect(elapsedMs).toBeLessThan(5_000);
    await exited(vm);
    expect(vm.signalCode).toBe('SIGKILL');
  });

  it('with no grace period goes straight from waiting to SIGKILL', async () => {
    const vm = startFakeVm('nograce1');
    const outcome = await stopProcess(transport, { pidFile: pidFileFor(vm, 'nograce1.pid'), expect: expectVm('nograce1'), waitSeconds: 0.2, graceSeconds: 0 });
    expect(outcome).toEqual({ result: 'killed', pid: vm.pid });
    await exited(vm);
    expect(vm.signalCode).toBe('SIGKILL');
  });

  it('counts a stopped process its parent has not reaped yet as gone: a zombie holds nothing but its pid', async () => {
    const pidFile = join(dir, 'reap1.pid');
    // The parent becomes `sleep`, which never reaps: the fake QEMU stays a zombie until it ends.
    const fake = `${fakeQemu} -c 'while :; do sleep 0.1; done' -name guest=reap1,process=ferry-reap1`;
    startProcess('sh', ['-c', `${fake} & echo $! > ${pidFile}; exec sleep 30`]);
    await waitFor(() => existsSync(pidFile));
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    const outcome = await stopProcess(transport, { pidFile, expect: expectVm('reap1'), graceSeconds: 10 });
    expect(outcome).toEqual({ result: 'terminated', pid });
    // Still there, unreaped, with nothing of the process left in it.
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/\) Z /);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('');
    expect(existsSync(pidFile)).toBe(false);
  });

  it('with a known pid, waits for a process that removed its own pid file while exiting', async () => {
    // As QEMU after `quit`: the pid file is gone at once, the process ends (and is reaped) later.
    const pidFile = join(dir, 'quit1.pid');
    const fake = `${fakeQemu} -c 'rm -f ${pidFile}; sleep 0.3' -name guest=quit1,process=ferry-quit1`;
    startProcess('sh', ['-c', `${fake} & echo $! > ${pidFile}.seen; exec sleep 1`]);
    await waitFor(() => existsSync(`${pidFile}.seen`) && !existsSync(pidFile));
    const pid = Number(readFileSync(`${pidFile}.seen`, 'utf8').trim());
    expect(await stopProcess(transport, { pidFile, expect: expectVm('quit1'), graceSeconds: 5 })).toEqual({ result: 'absent' });
    const outcome = await stopProcess(transport, { pidFile, expect: expectVm('quit1'), waitSeconds: 10, graceSeconds: 5, knownPid: pid });
    expect(outcome).toEqual({ result: 'exited', pid });
    // Exited: gone, or a zombie its parent has yet to reap.
    expect(existsSync(`/proc/${pid}`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '').toBe('');
  });

  it('with a known pid that is now another process, signals nothing and reports it exited', async () => {
    const stranger = startProcess('sleep', ['600']);
    const pidFile = join(dir, 'known2.pid');
    const outcome = await stopProcess(transport, { pidFile, expect: expectVm('known2'), graceSeconds: 1, knownPid: stranger.pid ?? 0 });
    expect(outcome).toEqual({ result: 'exited', pid: stranger.pid });
    expect(alive(stranger)).toBe(true);
  });

  it('keeps a pid file that a new process wrote meanwhile', async () => {
    const vm = startFakeVm('rewrite1');
    const pidFile = pidFileFor(vm, 'rewrite1.pid');
    // Stands for a new QEMU of the same VM writing its pid file while the old one is stopped.
    const script = stopProcessScript({ pidFile, expect: expectVm('rewrite1'), graceSeconds: 5 }).replace('kill -TERM "$n" 2>/dev/null;', `kill -TERM "$n" 2>/dev/null; echo 1 > "$f";`);
    const { stdout } = await runIn('sh', script);
    expect(parseStopOutcome(stdout)).toEqual({ result: 'terminated', pid: vm.pid });
    expect(existsSync(pidFile)).toBe(true);
  });

  it('stops a helper by program and argument, and leaves another program alone', async () => {
    const pidArgument = `--pid-file=${join(dir, 'nbd1.pid')}`;
    const nbd = startProcess(fakeNbd, ['-c', 'while :; do sleep 0.1; done', '--fork', pidArgument]);
    const helper: ExpectedProcess = { kind: 'helper', program: 'qemu-nbd', argument: pidArgument };
    const wrongProgram: ExpectedProcess = { kind: 'helper', program: 'qemu-img', argument: pidArgument };
    expect(await stopProcess(transport, { pidFile: pidFileFor(nbd, 'nbd1.pid'), expect: wrongProgram, graceSeconds: 1 })).toEqual({ result: 'stale', pid: nbd.pid, alive: true });
    expect(alive(nbd)).toBe(true);
    expect(await stopProcess(transport, { pidFile: pidFileFor(nbd, 'nbd1.pid'), expect: helper, graceSeconds: 2 })).toEqual({ result: 'terminated', pid: nbd.pid });
    await exited(nbd);
    expect(nbd.signalCode).toBe('SIGTERM');
  });

  it('refuses durations it cannot express and identities that are not one line', () => {
    const attempt = (action: () => unknown) => {
      try {
        action();
      } catch (error) {
        return isFerryError(error, 'invalid-input');
      }
      return false;
    };
    expect(attempt(() => stopProcessScript({ pidFile: '/run/x.pid', expect: expectVm('x'), graceSeconds: -1 }))).toBe(true);
    expect(attempt(() => stopProcessScript({ pidFile: '/run/x.pid', expect: expectVm('x'), graceSeconds: Number.NaN }))).toBe(true);
    expect(attempt(() => identityPatterns({ kind: 'helper', program: 'qemu-nbd', argument: 'a\nb' }))).toBe(true);
    expect(attempt(() => identityPatterns({ kind: 'helper', program: '', argument: 'x' }))).toBe(true);
  });
});

describe('parseStopOutcome', () => {
  it('reads each outcome and rejects anything else', () => {
    expect(parseStopOutcome('absent\n')).toEqual({ result: 'absent' });
    expect(parseStopOutcome('stale 42 alive\n')).toEqual({ result: 'stale', pid: 42, alive: true });
    expect(parseStopOutcome('survived 7\n')).toEqual({ result: 'survived', pid: 7 });
    let code: string | undefined;
    try {
      parseStopOutcome('sh: 1: timeout: not found\n');
    } catch (error) {
      code = isFerryError(error) ? error.code : 'other';
    }
    expect(code).toBe('remote-command-failed');
  });
});
