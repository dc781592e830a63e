import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OwnerLock } from '../../../src-main/core/migration/owner-lock.js';

const moduleUrl = new URL('../../../src-main/core/migration/owner-lock.ts', import.meta.url).href;

/** Another Node process that takes the lock and reports it; killing it is Ferry dying. */
function otherProcess(file: string): Promise<{ kill: () => Promise<void> }> {
  const script = `import { OwnerLock } from ${JSON.stringify(moduleUrl)}; const lock = await OwnerLock.tryAcquire(${JSON.stringify(file)}); console.log(lock ? 'held' : 'busy'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: resolve('.'), stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolvePromise, reject) => {
    child.stdout.once('data', (chunk: Buffer) => {
      if (chunk.toString().trim() !== 'held') reject(new Error(`child says ${chunk.toString()}`));
      resolvePromise({ kill: () => new Promise((done) => { child.once('exit', () => done()); child.kill('SIGKILL'); }) });
    });
  });
}

describe('OwnerLock', () => {
  it('one holder at a time; released on release()', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ferry-lock-')), 'm.lock');
    const lock = await OwnerLock.tryAcquire(file);
    expect(lock).not.toBeNull();
    expect(await OwnerLock.isHeld(file)).toBe(true);
    expect(await OwnerLock.tryAcquire(file)).toBeNull();
    await lock?.release();
    expect(await OwnerLock.isHeld(file)).toBe(false);
  });

  it('a process that dies (SIGKILL) lets go of its lock; while it lives, it is held', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ferry-lock-')), 'm.lock');
    const other = await otherProcess(file);
    expect(await OwnerLock.isHeld(file)).toBe(true);
    await other.kill();
    // The holder notices its pipe closing; give the kernel a moment.
    for (let attempt = 0; attempt < 50 && (await OwnerLock.isHeld(file)); attempt += 1) await new Promise((done) => setTimeout(done, 20));
    expect(await OwnerLock.isHeld(file)).toBe(false);
  }, 30_000);
});
