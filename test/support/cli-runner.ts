import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The repository's `ferry` command (bin/ferry.js runs the built dist/main/cli). */
export const FERRY_BIN = join(new URL('../../', import.meta.url).pathname, 'bin', 'ferry.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ferry ARGS` as a user would, with `env` only, stdin closed; resolves when it exits. */
export function runFerry(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FERRY_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
