import { describe, expect, it } from 'vitest';
import { CappedOutput, commandName, DEFAULT_EXEC_TIMEOUT_MS, resolveTimeoutMs } from '../../../src-main/core/ssh/exec-limits.js';
import { Limiter } from '../../../src-main/core/ssh/limiter.js';

describe('command limits', () => {
  it('defaults the timeout to two minutes; null, Infinity and untimeable lengths mean none; bad ones are refused', () => {
    expect(DEFAULT_EXEC_TIMEOUT_MS).toBe(120_000);
    expect(resolveTimeoutMs(undefined)).toBe(120_000);
    expect(resolveTimeoutMs(500)).toBe(500);
    expect(resolveTimeoutMs(null)).toBeUndefined();
    expect(resolveTimeoutMs(Infinity)).toBeUndefined();
    expect(resolveTimeoutMs(2 ** 31)).toBeUndefined();
    expect(() => resolveTimeoutMs(-1)).toThrow(/timeout must be a number of milliseconds/);
    expect(() => resolveTimeoutMs(Number.NaN)).toThrow(/Pass null for no timeout|timeout must be/);
  });

  it('keeps output up to its cap and nothing after the first chunk that passes it', () => {
    const output = new CappedOutput(5);
    expect(output.push(Buffer.from('abc'))).toBe(true);
    expect(output.push(Buffer.from('def'))).toBe(false);
    expect(output.push(Buffer.from('g'))).toBe(false);
    expect(output.text()).toBe('abc');
  });

  it('names a command by its program, skipping exec', () => {
    expect(commandName('  exec tail -F -- /x')).toBe('tail');
    expect(commandName('yes | head -c 40M')).toBe('yes');
  });
});

describe('Limiter', () => {
  it('holds a slot until released and hands it straight to the first waiter, not to a newcomer', async () => {
    const limiter = new Limiter(1);
    const order: string[] = [];
    const first = await limiter.acquire();
    const waiter = limiter.acquire().then((release) => {
      order.push('waiter');
      return release;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    first();
    first();
    const newcomer = limiter.acquire().then((release) => {
      order.push('newcomer');
      return release;
    });
    (await waiter)();
    (await newcomer)();
    expect(order).toEqual(['waiter', 'newcomer']);
    // Both releases above returned the one slot: it is free again, exactly once.
    const again = await limiter.acquire();
    let third = false;
    void limiter.acquire().then(() => {
      third = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(third).toBe(false);
    again();
  });
});
