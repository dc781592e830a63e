import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFerryError } from '../../../src-main/core/errors.js';
import { SshTransport } from '../../../src-main/core/ssh/connection.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { ensureLabSudoUsers, PLAIN_USER, removeLabSudoUsers, SUDO_OPERATOR } from '../../support/lab-sudo-user.js';
import { rejection } from '../../support/rejection.js';
import { allowingOneGuestPanic, assertTicking, badRecords, heartbeats, lastRecord, LOCAL_DIR, processesOn, reportOf, uniqueName, waitFor } from '../migration/guest.js';

// A host whose SSH user is not root, as on many real hypervisors: Ferry gets root through
// passwordless sudo for every command, and still reaches QEMU's sockets as that user.
let le: LabEngine;
let operatorGid: number;
const vmsToRemove: string[] = [];
const transports: SshTransport[] = [];

beforeAll(async () => {
  ({ operatorGid } = await ensureLabSudoUsers());
  le = await labEngine();
  for (const [name, labName] of [['sa', 'a'], ['sb', 'b']] as const) {
    const host = le.labHost(labName);
    await le.engine.call('hosts.add', { transport: 'ssh', name, address: host.address, port: host.port, user: SUDO_OPERATOR, sudo: true, identityFile: host.identityFile, useAgent: false });
  }
}, 60_000);

afterAll(async () => {
  for (const vm of vmsToRemove) {
    for (const host of ['a', 'b']) {
      await le.engine.call('vms.destroy', { host, name: vm }).catch(() => undefined);
      await le.engine.call('vms.undefine', { host, name: vm }).catch(() => undefined);
      await le.sh(host, `rm -f ${LOCAL_DIR}/${vm}.qcow2 /var/lib/ferry/logs/${vm}.serial.log`).catch(() => undefined);
    }
  }
  for (const transport of transports) await transport.close();
  await le.engine.close();
  await removeLabSudoUsers();
}, 60_000);

function operatorTransport(options: { hostSession: boolean }): SshTransport {
  const host = le.labHost('a');
  const transport = new SshTransport({
    label: 'sudo-a',
    host: host.address,
    port: host.port,
    username: SUDO_OPERATOR,
    sudo: true,
    hostSession: options.hostSession,
    auth: { identityFiles: [{ path: host.identityFile, defaultName: false, required: true }] },
    knownHostsFiles: [{ path: join(le.home, 'known_hosts'), writable: false }],
  });
  transports.push(transport);
  return transport;
}

describe('connecting as a user who is not root', () => {
  it('refuses sudo for a user sudo asks a password of, and says what to put in sudoers', async () => {
    const host = le.labHost('a');
    const error = await rejection(le.engine.call('hosts.add', { transport: 'ssh', name: 'plain-sudo', address: host.address, port: host.port, user: PLAIN_USER, sudo: true, identityFile: host.identityFile, useAgent: false }));
    expect(isFerryError(error, 'auth-failed')).toBe(true);
    expect((error as Error).message).toContain(`${PLAIN_USER} cannot use sudo without a password`);
    expect(isFerryError(error) ? error.hint : '').toContain(`${PLAIN_USER} ALL=(root) NOPASSWD: ALL`);
    expect((await le.engine.call('hosts.list', {})).map((saved) => saved.name)).not.toContain('plain-sudo');
  });

  it('without sudo, the host check fails the login and says to turn sudo on', async () => {
    const host = le.labHost('a');
    await le.engine.call('hosts.add', { transport: 'ssh', name: 'plain', address: host.address, port: host.port, user: PLAIN_USER, identityFile: host.identityFile, useAgent: false });
    try {
      const report = await le.engine.call('hosts.check', { host: 'plain' });
      expect(report.ok).toBe(false);
      const root = report.items.find((item) => item.check === 'root');
      expect(root).toMatchObject({ level: 'error', message: expect.stringContaining('not root') as string, hint: expect.stringContaining('--sudo') as string });
    } finally {
      await le.engine.call('hosts.remove', { name: 'plain' });
    }
  });

  it('with sudo, the host check passes, QEMU sockets included', async () => {
    const summary = (await le.engine.call('hosts.list', {})).find((host) => host.name === 'sa');
    expect(summary).toMatchObject({ user: SUDO_OPERATOR, sudo: true, state: 'connected' });
    const report = await le.engine.call('hosts.check', { host: 'sa' });
    const failed = report.items.filter((item) => item.level === 'error');
    expect(failed).toEqual([]);
    expect(report.items.find((item) => item.check === 'root')?.message).toBe(`logged in as ${SUDO_OPERATOR}, commands run as root through sudo`);
    expect(report.items.find((item) => item.check === 'stream-local')?.level).toBe('ok');
  });

  it('runs commands as root on a channel of their own too, kills them as root, and moves files as root', async () => {
    const transport = operatorTransport({ hostSession: false });
    expect((await transport.run('id -u')).trim()).toBe('0');
    const marker = `sleep 41.${process.pid}`;
    const timedOut = await rejection(transport.exec(marker, { timeoutMs: 1_000 }));
    expect(isFerryError(timedOut, 'timeout')).toBe(true);
    // The sleep was root's; the user's own kill could not have ended it.
    await waitFor(async () => processesOn(le, 'a', marker).length === 0, 5_000, 'the timed-out command to be killed');

    const path = `/var/lib/ferry/sudo-test-${process.pid}.bin`;
    const bytes = Buffer.from([0, 1, 2, 0, 255, 10, 0]);
    await transport.writeFile(path, bytes, 0o600);
    try {
      expect(await le.sh('a', `stat -c '%U %a' ${path}`)).toBe('root 600\n');
      expect(Buffer.compare(await transport.readFile(path), bytes)).toBe(0);
    } finally {
      await le.sh('a', `rm -f ${path}`);
    }
  });

  it('runs a VM through sudo, reaches its monitor as the user, and migrates it with a block copy', async () => {
    await allowingOneGuestPanic(le.engine, 'sa', async () => {
      const vm = uniqueName('sudo-vm');
      vmsToRemove.push(vm);
      const diskPath = `${LOCAL_DIR}/${vm}.qcow2`;
      await le.sh('a', `mkdir -p ${LOCAL_DIR} && qemu-img create -q -f qcow2 ${diskPath} 64M`);
      await le.engine.call('vms.define', {
        host: 'sa',
        name: vm,
        memoryMiB: 256,
        vcpus: 1,
        accel: 'tcg',
        disks: [{ path: diskPath }],
        kernel: le.lab.guest.kernel,
        initrd: le.lab.guest.initrd,
        append: 'console=ttyS0 quiet',
      });
      await le.engine.call('vms.start', { host: 'sa', name: vm });
      await waitFor(async () => (await heartbeats(le, 'a', vm)).length >= 3, 60_000, `heartbeats from ${vm}`);

      // The monitor socket belongs to the operator's group, so the forward (as the operator) opens it.
      expect(await le.sh('a', `stat -c '%a %g' /run/ferry /run/ferry/${vm}.qmp`)).toBe(`2770 ${operatorGid}\n770 ${operatorGid}\n`);
      expect(await le.engine.call('vms.info', { host: 'sa', name: vm })).toMatchObject({ state: 'running', qemuStatus: 'running' });

      const started = await le.engine.call('migrations.start', { vm, from: 'sa', to: 'sb', mode: 'block', probe: 'serial' });
      const record = await le.engine.migrations.settled(started.id);
      expect(reportOf(record)).toMatchObject({ outcome: 'completed', error: null });
      const sourceTicks = await heartbeats(le, 'a', vm);
      await assertTicking(le, 'b', vm);
      expect(Math.min(...(await heartbeats(le, 'b', vm)))).toBeLessThanOrEqual(Math.max(...sourceTicks) + 1);
      expect(await le.engine.call('vms.info', { host: 'sb', name: vm })).toMatchObject({ state: 'running', qemuStatus: 'running' });
      expect(await le.sh('b', `stat -c '%g' /run/ferry/${vm}.qmp`)).toBe(`${operatorGid}\n`);
      const written = await lastRecord(le, 'b', vm);
      await le.engine.call('vms.destroy', { host: 'sb', name: vm });
      expect(written).toBeGreaterThan(5);
      expect(await badRecords(le, 'b', diskPath, written)).toEqual([]);
    });
  });
});
