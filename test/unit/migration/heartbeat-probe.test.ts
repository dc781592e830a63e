import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HeartbeatProbe } from '../../../src-main/core/migration/heartbeat-probe.js';
import { LocalTransport } from '../../../src-main/core/ssh/local.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Real `tail -F` through a real shell (LocalTransport); the guest is played by appends to the logs. */
describe('HeartbeatProbe.serial', () => {
  it('measures the longest silence across the source log and a destination log that appears later', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ferry-probe-'));
    const source = join(directory, 'a.serial.log');
    const destination = join(directory, 'b.serial.log');
    writeFileSync(source, 'boot\nferry-heartbeat 1 disk=1\n');
    const transport = new LocalTransport('unit');
    const probe = HeartbeatProbe.serial([
      { transport, path: source },
      { transport, path: destination },
    ]);
    await sleep(300);
    for (let beat = 2; beat <= 4; beat += 1) {
      appendFileSync(source, `ferry-heartbeat ${beat} disk=${beat}\n`);
      await sleep(100);
    }
    // The guest is silent for ~900 ms while it "moves", then beats on the destination.
    await sleep(900);
    writeFileSync(destination, 'ferry-heartbeat 5 disk=5\n');
    await sleep(150);
    for (let beat = 6; beat <= 8; beat += 1) {
      appendFileSync(destination, `ferry-heartbeat ${beat} disk=${beat}\n`);
      await sleep(100);
    }
    const gap = probe.stop();
    expect(gap).toBeGreaterThanOrEqual(850);
    expect(gap).toBeLessThan(2500);
    // Stopping ends the followers: no tail is left running.
    await sleep(100);
    // The bracket keeps pgrep from matching the shell that runs it.
    const { stdout } = await transport.exec(`pgrep -f -- ${JSON.stringify(`[t]ail -n1 -F -- ${source}`)} || true`);
    expect(stdout.trim()).toBe('');
  });

  it('hands out output as it arrives and stops a long command when aborted', async () => {
    const transport = new LocalTransport('unit');
    const chunks: string[] = [];
    const abort = new AbortController();
    const running = transport.exec('echo one; sleep 0.2; echo two; sleep 30', { onStdout: (chunk) => chunks.push(chunk.toString()), signal: abort.signal });
    await sleep(600);
    expect(chunks.join('')).toBe('one\ntwo\n');
    abort.abort();
    await expect(running).rejects.toMatchObject({ code: 'cancelled' });
  });
});
