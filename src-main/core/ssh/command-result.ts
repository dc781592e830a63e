import { constants } from 'node:os';
import { FerryError } from '../errors.js';
import type { ExecResult } from './transport.js';

/** Shell convention for a command killed by a signal, so callers see one number either way. */
export function exitCodeForSignal(signal: string | null | undefined): number {
  if (signal === null || signal === undefined) return 255;
  const name = (signal.startsWith('SIG') ? signal : `SIG${signal}`) as keyof typeof constants.signals;
  const number = constants.signals[name];
  return typeof number === 'number' ? 128 + number : 255;
}

/** The stdout of a successful command, or the error `run` promises for a non-zero exit. */
export function stdoutOrThrow(label: string, command: string, result: ExecResult): string {
  if (result.code === 0) return result.stdout;
  const firstLine = result.stderr.trim().split('\n')[0] ?? '';
  throw new FerryError(
    'remote-command-failed',
    `${label}: command exited with status ${result.code}${firstLine === '' ? '' : `: ${firstLine}`}`,
    { details: { command, code: result.code, stderr: result.stderr } },
  );
}
