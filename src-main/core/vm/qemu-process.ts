import { FerryError, isFerryError } from '../errors.js';
import { shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { vmLayout } from './layout.js';
import { withMonitor } from './monitor.js';

/**
 * A pid file only says which pid a process had when it wrote the file. After that process died
 * without removing it (SIGKILL, a host crash), the kernel may hand the pid to anything, so every
 * signal Ferry sends by pid file first checks that the pid is still the process the file was
 * written for, by its command line.
 */
export type ExpectedProcess =
  /** A VM's QEMU: started by Ferry with `-name guest=NAME,…`, or adopted with its monitor socket on its command line. */
  | { kind: 'vm'; name: string; adoptedMonitorSocket?: string }
  /** A helper such as qemu-nbd: its program name, and one argument it was started with. */
  | { kind: 'helper'; program: string; argument: string };

export function expectVm(name: string, adoptedMonitorSocket?: string): ExpectedProcess {
  return adoptedMonitorSocket === undefined ? { kind: 'vm', name } : { kind: 'vm', name, adoptedMonitorSocket };
}

const QEMU_PROGRAMS = ['qemu-system-', 'qemu-kvm'];

/**
 * A literal for a `case` pattern, split in two by an empty quote. The shell reads it as one
 * word, but the command line of the shell running the script then never holds it in one piece,
 * so a Ferry script can never be taken for the process it is looking for.
 */
function splitLiteral(text: string): string {
  if (text.length < 2) return shellQuote(text);
  return `${shellQuote(text.slice(0, 1))}''${shellQuote(text.slice(1))}`;
}

/**
 * `case` patterns matching the process's command line as `read` sees it: the shell drops the NUL
 * bytes between arguments, so "qemu-system-x86_64\0-name\0guest=a,…" reads as
 * "qemu-system-x86_64-nameguest=a,…". Reading it with the builtin costs no fork, which keeps
 * listing hundreds of VMs to one cheap round trip.
 */
export function identityPatterns(expect: ExpectedProcess): string {
  const programs = expect.kind === 'vm' ? QEMU_PROGRAMS : [expect.program];
  const needles = expect.kind === 'vm'
    ? [`-nameguest=${expect.name},`, ...(expect.adoptedMonitorSocket === undefined ? [] : [expect.adoptedMonitorSocket])]
    : [expect.argument];
  for (const value of [...programs, ...needles]) {
    if (value === '' || /[\n\0]/.test(value)) throw new FerryError('invalid-input', `Cannot recognise a process by ${JSON.stringify(value)}`, { hint: 'Program names and arguments must be non-empty single lines.' });
  }
  // argv[0] is the program, bare or as a path; a prefix such as "qemu-system-" covers every target.
  const patterns = programs.flatMap((program) =>
    needles.flatMap((needle) => [`${splitLiteral(program)}*${splitLiteral(needle)}*`, `*/${splitLiteral(program)}*${splitLiteral(needle)}*`]),
  );
  return patterns.join('|');
}

/** Shell: runs `then` when the process whose pid is in "$p" is the expected one. Uses $c. */
function whenProcessIs(expect: ExpectedProcess, then: string): string {
  return `c=; { IFS= read -r c < "/proc/$p/cmdline"; } 2>/dev/null; case "$c" in ${identityPatterns(expect)}) ${then} ;; esac`;
}

export interface PidFileCheck {
  /** Reported back with the pid when the process is the expected one. */
  label: string;
  pidFile: string;
  expect: ExpectedProcess;
}

/**
 * One script for any number of pid files: prints "LABEL PID" for each whose process is the
 * expected one. Only shell builtins run per pid file.
 */
export function verifiedPidsScript(checks: readonly PidFileCheck[]): string {
  const parts = checks.map((check) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(check.label)) throw new FerryError('invalid-input', `Label ${JSON.stringify(check.label)} is not a plain word`);
    const report = `printf '%s %s\\n' ${shellQuote(check.label)} "$p"`;
    return `p=; { read -r p < ${shellQuote(check.pidFile)}; } 2>/dev/null; case "$p" in ''|*[!0-9]*) ;; *) ${whenProcessIs(check.expect, report)} ;; esac`;
  });
  return [...parts, 'true'].join('\n');
}

export function parseVerifiedPids(output: string): Map<string, number> {
  const pids = new Map<string, number>();
  for (const line of output.split('\n')) {
    const match = /^(\S+) (\d+)$/.exec(line.trim());
    if (match?.[1] && match[2]) pids.set(match[1], Number(match[2]));
  }
  return pids;
}

export async function verifiedPids(transport: HostTransport, checks: readonly PidFileCheck[]): Promise<Map<string, number>> {
  if (checks.length === 0) return new Map();
  return parseVerifiedPids(await transport.run(verifiedPidsScript(checks)));
}

/** The pid of the VM's live QEMU, or null when none runs (a pid file naming another process counts as none). */
export async function vmQemuPid(transport: HostTransport, name: string, adoptedMonitorSocket?: string): Promise<number | null> {
  const pids = await verifiedPids(transport, [{ label: name, pidFile: vmLayout(name).pidFile, expect: expectVm(name, adoptedMonitorSocket) }]);
  return pids.get(name) ?? null;
}

/** Shell: whether the process named in a pid file is alive and the expected one; exit status 0 if so. */
export function processIsScript(pidFile: string, expect: ExpectedProcess): string {
  return `p=; { read -r p < ${shellQuote(pidFile)}; } 2>/dev/null; case "$p" in ''|*[!0-9]*) exit 1 ;; esac; ${whenProcessIs(expect, 'exit 0')}; exit 1`;
}

export interface StopProcessOptions {
  pidFile: string;
  expect: ExpectedProcess;
  /** How long the process may take to exit by itself before it is sent SIGTERM; 0 sends it at once. */
  waitSeconds?: number;
  /** How long after SIGTERM before SIGKILL; 0 skips SIGTERM and kills once the wait is over. */
  graceSeconds: number;
  /** How long to wait for the process to disappear after SIGKILL. */
  killWaitSeconds?: number;
  /**
   * The pid, already found to be the expected process, when it was asked to go before this runs:
   * QEMU removes its own pid file as it exits, and must still be waited for until it is gone.
   */
  knownPid?: number;
}

/**
 * What happened to the process a pid file named. `stale`: the pid was not the expected process
 * (alive: it belongs to something else now), nothing was signalled and the pid file was removed.
 * `survived`: not even SIGKILL ended it in time (stuck in the kernel); its pid file is kept.
 */
export type StopOutcome =
  | { result: 'absent' }
  | { result: 'stale'; pid: number; alive: boolean }
  | { result: 'exited' | 'terminated' | 'killed' | 'survived'; pid: number };

function knownPid(pid: number): string {
  if (!Number.isSafeInteger(pid) || pid < 2) throw new FerryError('invalid-input', `${pid} is not a process id`);
  return String(pid);
}

function seconds(value: number, what: string): string {
  if (!Number.isFinite(value) || value < 0 || value > 86_400) throw new FerryError('invalid-input', `${what} must be between 0 and 86400 seconds, not ${value}`);
  return String(Math.round(value * 100) / 100);
}

/**
 * POSIX sh that stops the process named in a pid file, never signalling another one: the pid is
 * checked against `expect` before each signal, waits are bounded by the clock (`timeout`), and
 * the pid file is removed afterwards if it still names the same pid. Prints one line, the
 * outcome word and the pid (see parseStopOutcome).
 */
export function stopProcessScript(options: StopProcessOptions): string {
  const waitFor = seconds(options.waitSeconds ?? 0, 'waitSeconds');
  const grace = seconds(options.graceSeconds, 'graceSeconds');
  const killWait = seconds(options.killWaitSeconds ?? 5, 'killWaitSeconds');
  const ours = `ours() { p=$1; ${whenProcessIs(options.expect, 'return 0')}; return 1; }`;
  // An exited process keeps its pid, with an empty command line, until its parent reaps it.
  const zombie = `zombie() { s=; { IFS= read -r s < "/proc/$1/stat"; } 2>/dev/null; case "$s" in *') Z '*) return 0 ;; esac; return 1; }`;
  // The wait runs in its own sh so that `timeout` can end it. It ends once the process has exited:
  // a zombie (whose command line is empty, so it is no longer `ours`) holds no file, lock, socket
  // or memory, only its pid, which nothing else can take before it is reaped. Waiting for the reap
  // too would tie Ferry to how quickly the host's init collects daemonized processes.
  const waitLoop = `${ours}; while ours "$1"; do sleep 0.05; done`;
  const lines = [
    `f=${shellQuote(options.pidFile)}`,
    ours,
    zombie,
    `gone() { timeout "$1" sh -c ${shellQuote(waitLoop)} sh "$2"; }`,
    `forget() { q=; { read -r q < "$f"; } 2>/dev/null; if [ "$q" = "$1" ]; then rm -f -- "$f"; fi; }`,
    ...(options.knownPid === undefined
      ? [
        'n=; { read -r n < "$f"; } 2>/dev/null',
        `case "$n" in '') echo absent; exit 0 ;; *[!0-9]*) forget "$n"; echo stale 0 dead; exit 0 ;; esac`,
        'if ! ours "$n"; then if kill -0 "$n" 2>/dev/null && ! zombie "$n"; then a=alive; else a=dead; fi; forget "$n"; echo "stale $n $a"; exit 0; fi',
      ]
      : [
        `n=${knownPid(options.knownPid)}`,
        // It was the expected process a moment ago, so it has exited since (perhaps not yet reaped).
        `if ! ours "$n"; then forget "$n"; echo "exited $n"; exit 0; fi`,
      ]),
    'r=',
    waitFor === '0' ? ':' : `if gone ${waitFor} "$n"; then r=exited; fi`,
    grace === '0' ? ':' : `if [ -z "$r" ] && ours "$n"; then kill -TERM "$n" 2>/dev/null; if gone ${grace} "$n"; then r=terminated; fi; fi`,
    `if [ -z "$r" ]; then if ours "$n"; then kill -KILL "$n" 2>/dev/null; if gone ${killWait} "$n"; then r=killed; else r=survived; fi; else r=exited; fi; fi`,
    'if [ "$r" != survived ]; then forget "$n"; fi',
    'echo "$r $n"',
  ];
  return lines.join('\n');
}

export function parseStopOutcome(output: string): StopOutcome {
  const line = output.trim().split('\n').at(-1) ?? '';
  if (line === 'absent') return { result: 'absent' };
  const stale = /^stale (\d+) (alive|dead)$/.exec(line);
  if (stale) return { result: 'stale', pid: Number(stale[1]), alive: stale[2] === 'alive' };
  const stopped = /^(exited|terminated|killed|survived) (\d+)$/.exec(line);
  if (stopped?.[1]) return { result: stopped[1] as 'exited' | 'terminated' | 'killed' | 'survived', pid: Number(stopped[2]) };
  throw new FerryError('remote-command-failed', `Unexpected answer while stopping a process: ${JSON.stringify(output.trim())}`);
}

export async function stopProcess(transport: HostTransport, options: StopProcessOptions): Promise<StopOutcome> {
  const budgetMs = ((options.waitSeconds ?? 0) + options.graceSeconds + (options.killWaitSeconds ?? 5)) * 1000;
  return parseStopOutcome(await transport.run(stopProcessScript(options), { timeoutMs: budgetMs + 30_000 }));
}

export interface StopVmOptions {
  /** Ask QEMU over QMP to quit before any signal; it closes the guest's disks cleanly. */
  quitFirst?: boolean;
  /** How long QEMU may take to exit by itself (after quit, or after the guest was asked to power off). */
  waitMs?: number;
  /** How long after SIGTERM before SIGKILL. */
  graceMs: number;
  /** For an adopted VM: the monitor socket on its command line, which also receives the quit. */
  adoptedMonitorSocket?: string;
  /** QEMU's pid as found (vmQemuPid) before the guest was asked to power off; looked up when not given. */
  pid?: number;
}

/** Stops this VM's QEMU and waits for it to be gone; a pid file naming another process is only removed. */
export async function stopVmQemu(transport: HostTransport, name: string, options: StopVmOptions): Promise<StopOutcome> {
  const layout = vmLayout(name);
  const pid = options.pid ?? (await vmQemuPid(transport, name, options.adoptedMonitorSocket));
  if (options.quitFirst && pid !== null) {
    try {
      await withMonitor(transport, options.adoptedMonitorSocket ?? layout.qmpSocket, (qmp) => qmp.execute('quit'));
    } catch (error) {
      // quit closes the monitor before it can answer; a busy or gone monitor leaves it to the signals.
      if (!isFerryError(error)) throw error;
    }
  }
  return stopProcess(transport, {
    pidFile: layout.pidFile,
    expect: expectVm(name, options.adoptedMonitorSocket),
    waitSeconds: (options.waitMs ?? 0) / 1000,
    graceSeconds: options.graceMs / 1000,
    ...(pid === null ? {} : { knownPid: pid }),
  });
}
