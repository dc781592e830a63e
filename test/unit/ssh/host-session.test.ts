import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostSession, SessionGoneBeforeSend } from '../../../src-main/core/ssh/host-session.js';
import { rejection } from '../../support/rejection.js';

// The layer below a session is an SSH channel to `sh -s`; here it is a local `sh -s`, so the
// program itself runs for real in the machine's /bin/sh.
function localShell(command = 'sh', args = ['-s']): { child: ChildProcess; start: (timeoutMs?: number) => Promise<HostSession> } {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: tmp } });
  const pipes = {
    input: child.stdin!,
    output: child.stdout!,
    errors: child.stderr!,
    close: () => child.kill('SIGKILL'),
  };
  return { child, start: (timeoutMs) => HostSession.start('test-host', pipes, timeoutMs) };
}

let tmp: string;
let sessions: HostSession[] = [];

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ferry-host-session-'));
});

afterEach(() => {
  for (const session of sessions) session.close();
  sessions = [];
  // A test that cut a session off leaves its commands running, as a dropped connection would.
  for (const pid of processesUsing(tmp)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

async function session(): Promise<HostSession> {
  const started = await localShell().start();
  sessions.push(started);
  return started;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** Processes with an open file or working directory under `dir`. */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const links = readdirSync(`/proc/${entry}/fd`).map((fd) => readlinkSync(`/proc/${entry}/fd/${fd}`));
      if (links.some((link) => link.startsWith(dir))) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to look at.
    }
  }
  return pids;
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('HostSession', () => {
  it('runs command lines with sh and returns exit status, stdout and stderr', async () => {
    const s = await session();
    expect(await s.exec('echo out; echo err >&2; exit 3')).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(await s.exec('true')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await s.exec("exec ls /no/such/path")).toMatchObject({ code: 2, stdout: '' });
    // Every command runs in the same long-lived shell: its pid is what the greeting named.
    expect(s.pid).toBeGreaterThan(1);
  });

  it('passes stdin byte for byte: quotes, newlines, non-UTF-8 bytes, and a megabyte', async () => {
    const s = await session();
    const text = `it's "quoted" $HOME \`x\` \\n\n\n'\n`;
    expect((await s.exec('cat', { stdin: text })).stdout).toBe(text);
    const bytes = Buffer.from([0xff, 0x27, 0x80, 0x0a, 0x41]);
    const hex = await s.exec('od -An -tx1 | tr -d " \\n"', { stdin: bytes });
    expect(hex.stdout).toBe('ff27800a41');
    const big = 'x'.repeat(1024 * 1024);
    expect((await s.exec('wc -c', { stdin: big })).stdout.trim()).toBe(String(big.length));
    await expect(s.exec('cat', { stdin: Buffer.from([0x41, 0x00]) })).rejects.toThrow(/NUL/);
  });

  it('keeps many commands in flight at once, more than it has slots, each answer matched to its command', async () => {
    const s = await session();
    const results = await Promise.all(
      Array.from({ length: 150 }, (_, i) => s.exec(`sleep 0.0${i % 10}; printf '%s' ${i}; head -c ${(i % 7) * 1000} /dev/zero | tr '\\0' x >&2`)),
    );
    results.forEach((result, i) => {
      expect(result.stdout).toBe(String(i));
      expect(result.stderr.length).toBe((i % 7) * 1000);
    });
    expect(s.running).toBe(0);
  });

  it('kills a command that overruns its timeout, with everything it started, and stays usable', async () => {
    const s = await session();
    const marker = join(tmp, 'child.pid');
    const error = await rejection(s.exec(`sleep 60 & echo $! > ${marker}; wait`, { timeoutMs: 300 }));
    expect(error.code).toBe('timeout');
    expect(error.message).toMatch(/test-host: `sleep` did not finish within 300 ms; it was killed/);
    await until(() => existsSync(marker));
    const child = Number(readFileSync(marker, 'utf8'));
    await until(() => !alive(child));
    expect((await s.exec('echo still here')).stdout).toBe('still here\n');
  });

  it('kills a command whose timeout ran out as it was sent', async () => {
    const s = await session();
    const marker = join(tmp, 'ran-on');
    const error = await rejection(s.exec(`sleep 1; touch ${marker}`, { timeoutMs: 0 }));
    expect(error.code).toBe('timeout');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(existsSync(marker)).toBe(false);
  });

  it('cancels a command through its AbortSignal, and refuses one already cancelled', async () => {
    const s = await session();
    const controller = new AbortController();
    const running = s.exec('sleep 30', { signal: controller.signal, timeoutMs: null });
    setTimeout(() => controller.abort(), 100);
    expect((await rejection(running)).code).toBe('cancelled');
    expect((await rejection(s.exec('true', { signal: AbortSignal.abort() }))).code).toBe('cancelled');
  });

  it('stops a command that floods its stdout past the cap and says so, without sending the output', async () => {
    const s = await session();
    const error = await rejection(s.exec('yes', { maxOutputBytes: 1000 }));
    expect(error.code).toBe('output-too-large');
    expect(error.message).toMatch(/`yes` wrote more than 1000 bytes to stdout/);
    expect((await rejection(s.exec('head -c 5000 /dev/zero >&2', { maxStderrBytes: 100 }))).code).toBe('output-too-large');
    expect((await s.exec('echo fine', { maxOutputBytes: 5 })).stdout).toBe('fine\n');
  });

  it('keeps its framing when a process a command left behind keeps writing to that command\'s stderr', async () => {
    const s = await session();
    // Like a daemon: its stdout let go at once, its stderr still the command's; it writes for a
    // second, into the files of whatever command uses that slot next.
    const first = await s.exec('(end=$(($(date +%s) + 2)); while [ "$(date +%s)" -lt "$end" ]; do echo straggler >&2; done) >/dev/null & echo started');
    expect(first.stdout).toBe('started\n');
    const deadline = Date.now() + 1_500;
    let round = 0;
    while (Date.now() < deadline) {
      // What stderr holds is garbled by the straggler; stdout and the framing must not be.
      expect((await s.exec(`echo ${round}; echo e${round} >&2`)).stdout).toBe(`${round}\n`);
      round += 1;
    }
    expect(s.alive).toBe(true);
    expect(round).toBeGreaterThan(10);
  });

  it('streams a command line by line to onStdout while it runs', async () => {
    const s = await session();
    const lines: string[] = [];
    let firstAt = 0;
    const result = await s.exec("echo '  first  '; sleep 0.5; printf 'second\\nno end'", {
      onStdout: (chunk) => {
        lines.push(chunk.toString());
        firstAt ||= Date.now();
      },
    });
    // The first line came while the command was still sleeping, not with its end.
    expect(Date.now() - firstAt).toBeGreaterThan(300);
    expect(lines.join('')).toBe('  first  \nsecond\nno end\n');
    expect(result.code).toBe(0);
  });

  it('fails commands in flight with connection-lost when the shell goes away, and never resends them', async () => {
    const { child, start } = localShell();
    const s = await start();
    const marker = join(tmp, 'count');
    const running = s.exec(`echo x >> ${marker}; sleep 30`, { timeoutMs: null });
    await until(() => existsSync(marker));
    // What Ferry sees when the SSH connection drops: the channel closes under it.
    child.stdout?.destroy();
    child.kill('SIGKILL');
    const error = await rejection(running);
    expect(error.code).toBe('connection-lost');
    expect(s.alive).toBe(false);
    await expect(s.exec('true')).rejects.toBeInstanceOf(SessionGoneBeforeSend);
    expect(readFileSync(marker, 'utf8')).toBe('x\n');
  });

  it('reports a host that cannot run the program as a start failure, with what the shell said', async () => {
    const { start } = localShell('sh', ['-c', 'echo "sh: no such thing" >&2; exit 127']);
    const error = await rejection(start());
    expect(error.code).toBe('connection-failed');
    expect(error.message).toMatch(/cannot start a host session: sh: no such thing/);
  });

  it('skips what a login shell prints before the program starts (a banner from ~/.bashrc)', async () => {
    const { start } = localShell('sh', ['-c', 'echo "Welcome to host"; printf "no newline "; exec sh -s']);
    const s = await start();
    sessions.push(s);
    expect((await s.exec('echo ok')).stdout).toBe('ok\n');
  });

  it("raises the shell level, so a `bash -c` a command starts does not read ~/.bashrc as if sshd had started it", async () => {
    // The test shell starts with no SHLVL, as sh does after a login bash exec'd it.
    const s = await session();
    expect((await s.exec("bash -c 'echo $SHLVL'")).stdout.trim()).toBe('2');
  });

  it('gives up on a shell that never greets', async () => {
    const { start } = localShell('sleep', ['30']);
    const error = await rejection(start(300));
    expect(error.code).toBe('timeout');
  });

  it('leaves no process and no file behind once the shell ends, even after commands killed as they started', async () => {
    const { child, start } = localShell();
    const s = await start();
    await s.exec('echo hi');
    const killed = await Promise.all(Array.from({ length: 20 }, () => rejection(s.exec('sleep 0.5', { timeoutMs: 0 }))));
    expect(killed.every((error) => error.code === 'timeout')).toBe(true);
    await until(() => s.running === 0);
    child.stdin?.end();
    await new Promise((resolve) => child.once('exit', resolve));
    await until(() => readdirSync(tmp).length === 0 && processesUsing(tmp).length === 0);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
