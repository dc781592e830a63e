import { execFileSync } from 'node:child_process';
export { rejection } from '../../support/rejection.js';

/** Polls until `check` returns a value other than undefined, or fails with `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SHA256 fingerprint of a public key file, as ssh-keygen prints it. */
export function keyFingerprint(publicKeyFile: string): string {
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyFile], { encoding: 'utf8' });
  const fingerprint = /(SHA256:\S+)/.exec(out)?.[1];
  if (!fingerprint) throw new Error(`no fingerprint in ${out}`);
  return fingerprint;
}

/** Heartbeat numbers the lab guest printed, in order. */
export function heartbeats(serial: string): number[] {
  return [...serial.matchAll(/ferry-heartbeat (\d+)/g)].map((match) => Number(match[1]));
}
