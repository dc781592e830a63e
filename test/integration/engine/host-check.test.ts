import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostCheckReport } from '../../../src-main/core/api/types.js';
import { restoreQemuImg, withoutQemuImg } from '../../support/hidden-qemu-img.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { waitFor } from './helpers.js';

// hosts.check against the real lab hosts: sshd, QEMU 7.2, qemu-utils, the lab's /var/lib/ferry.
let lab: LabEngine;

beforeAll(async () => {
  lab = await labEngine();
});

afterAll(async () => {
  if (lab) {
    await restoreQemuImg(lab, 'b');
    await lab.engine.close();
  }
});

const errors = (report: HostCheckReport) => report.items.filter((item) => item.level === 'error');

describe('hosts.check on the lab hosts', () => {
  it('passes host a, having tested every requirement', async () => {
    const report = await lab.engine.call('hosts.check', { host: 'a' });
    expect(errors(report)).toEqual([]);
    expect(report.ok).toBe(true);
    const byCheck = new Map(report.items.map((item) => [item.check, item]));
    expect(byCheck.get('qemu-system-x86_64')?.message).toMatch(/^QEMU 7\.2\.\d+/);
    expect(byCheck.get('qemu-img')?.message).toMatch(/^qemu-img 7\.2\.\d+ \(\/usr\/bin\/qemu-img\)/);
    // The lab's sshd allows stream-local forwarding; the check opened a real socket through it.
    expect(byCheck.get('stream-local')).toMatchObject({ level: 'ok', message: expect.stringContaining('forwards UNIX sockets') as string });
    expect(byCheck.get('/var/lib/ferry')?.message).toMatch(/writable, [\d.]+ (GiB|MiB) free/);
    expect(byCheck.get('root')?.level).toBe('ok');
    for (const check of ['qemu-nbd', 'setsid', 'mkfifo', 'mktemp', 'head', 'wc', 'timeout', 'flock', 'kvm', '/run/ferry', 'host-session', 'migration-ports', 'ovmf']) {
      expect(byCheck.has(check), check).toBe(true);
    }
    // The throwaway QEMU that served the test socket is gone, and so is its directory.
    const leftovers = async () => (await lab.sh('a', 'ps -eo args | grep "[q]emu-system-x86_64 -machine none -nodefaults"; ls -d /tmp/ferry-check.* 2>/dev/null; true')).trim();
    await waitFor('the test QEMU to end', async () => ((await leftovers()) === '' ? true : undefined), 10_000);
  }, 60_000);

  it('fails host b while its qemu-img is hidden, naming qemu-utils', async () => {
    const report = await withoutQemuImg(lab, 'b', 'a', () => lab.engine.call('hosts.check', { host: 'b' }));
    expect(report.ok).toBe(false);
    expect(errors(report)).toEqual([
      {
        check: 'qemu-img',
        level: 'error',
        message: expect.stringMatching(/^qemu-img (is not installed|at \/usr\/bin\/qemu-img does not run)/) as string,
        hint: expect.stringContaining('qemu-utils') as string,
      },
    ]);
    // Back again, b passes.
    expect(errors(await lab.engine.call('hosts.check', { host: 'b' }))).toEqual([]);
  }, 60_000);
});
