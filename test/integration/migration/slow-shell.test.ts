import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { loginShellStarts, setLoginShellDelay } from '../../lab/login-shell.js';
import { LOCAL_DIR, ensurePools, removeGuest, reportOf, startGuest, uniqueName } from './guest.js';

// Real hosts often take a second to start a login shell (pyenv, nvm, conda in ~/.bashrc), and
// sshd starts one per SSH command. Ferry runs its commands in one host session per connection,
// so once the hosts are connected a migration starts no login shell at all: its time cannot grow
// with the shell's. Counting the shells proves that without timing anything.
const SLOW_SHELL_SECONDS = 1;

let le: LabEngine;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  le = await labEngine({ addHosts: false });
  for (const name of ['a', 'b']) await setLoginShellDelay(le.lab, le.labHost(name), SLOW_SHELL_SECONDS);
  for (const name of ['a', 'b']) {
    const host = le.labHost(name);
    await le.engine.call('hosts.add', { transport: 'ssh', name, address: host.address, port: host.port, user: host.user, identityFile: host.identityFile, useAgent: false });
  }
  await ensurePools(le);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await le.engine.close();
  for (const name of ['a', 'b']) await setLoginShellDelay(le.lab, le.labHost(name), 0);
});

describe(`hosts whose login shell takes ${SLOW_SHELL_SECONDS} s`, () => {
  it('a block migration starts no login shell on either host once they are connected', async () => {
    const vm = uniqueName('slow-shell');
    const { diskPath } = await startGuest(le, { host: 'a', name: vm, directory: LOCAL_DIR, dirtyMiB: 4 });
    cleanups.push(() => removeGuest(le, vm, [diskPath]));
    // Each count is itself one login shell (which loginShellStarts leaves out of what it returns).
    const before = { a: await loginShellStarts(le.lab, le.labHost('a')), b: await loginShellStarts(le.lab, le.labHost('b')) };
    const startedAt = Date.now();
    const started = await le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'block' });
    const record = await le.engine.migrations.settled(started.id);
    const elapsedMs = Date.now() - startedAt;
    const after = { a: await loginShellStarts(le.lab, le.labHost('a')), b: await loginShellStarts(le.lab, le.labHost('b')) };
    const report = reportOf(record);
    expect(report.outcome, report.error?.message ?? '').toBe('completed');
    expect(report.totalTimeMs).toBeGreaterThan(0);
    // The first count's own shell is in the second count.
    expect({ a: after.a - before.a - 1, b: after.b - before.b - 1 }).toEqual({ a: 0, b: 0 });
    const onB = await le.engine.call('vms.list', { host: 'b' });
    expect(onB.find((entry) => entry.name === vm)?.state).toBe('running');
    console.info(`block migration with a ${SLOW_SHELL_SECONDS} s login shell: ${(elapsedMs / 1000).toFixed(1)} s, no login shell started`);
  });
});
