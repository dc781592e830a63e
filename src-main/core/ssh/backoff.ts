export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Injectable for tests; defaults to Math.random. */
  random?: () => number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

/**
 * Delay before reconnect attempt `attempt` (0-based): doubling from initialMs up to maxMs, with
 * ±20 % jitter so that many transports losing the same network do not retry in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = defaultBackoff): number {
  const random = options.random ?? Math.random;
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(Math.min(options.maxMs, base * (0.8 + 0.4 * random())));
}
