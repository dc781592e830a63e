import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

export interface ExecOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  cwd?: string;
  /** When false (default) a non-zero exit rejects, so callers cannot silently ignore a failed step. */
  allowFail?: boolean;
}

export function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      const result: ExecResult = {
        code: code ?? 128,
        stdout: stdoutBytes.toString('utf8'),
        stdoutBytes,
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (timedOut) {
        reject(new Error(`${cmd} ${args.join(' ')}: timed out after ${opts.timeoutMs} ms`));
      } else if (result.code !== 0 && !opts.allowFail) {
        const why = signal ? `signal ${signal}` : `exit ${result.code}`;
        reject(new Error(`${cmd} ${args.join(' ')}: ${why}: ${result.stderr.trim()}`));
      } else {
        resolve(result);
      }
    });
    // Children that never read stdin would otherwise keep the pipe open and may see EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
