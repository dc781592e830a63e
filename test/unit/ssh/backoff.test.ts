import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src-main/core/ssh/backoff.js';

describe('backoffDelay', () => {
  const fixed = (value: number) => ({ initialMs: 500, maxMs: 30_000, random: () => value });

  it('doubles from 0.5 s and caps at 30 s', () => {
    expect([0, 1, 2, 3, 6, 7, 20, 1000].map((n) => backoffDelay(n, fixed(0.5)))).toEqual([500, 1000, 2000, 4000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('jitters within ±20 % and never beyond the cap', () => {
    expect(backoffDelay(2, fixed(0))).toBe(1600);
    expect(backoffDelay(2, fixed(0.999999))).toBe(2400);
    expect(backoffDelay(10, fixed(0.999999))).toBe(30_000);
  });
});
