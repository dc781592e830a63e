/**
 * Hostile names and paths are refused by the engine before anything runs: the error is
 * invalid-input, the engine has not even opened its SSH connection, and the files those names
 * point at on the host are untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel } from '../../../src-main/core/api/contract.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { rejection } from './helpers.js';

let lab: LabEngine;
const MARKER = '/var/lib/ferry/eng-names-marker.json';
const PWNED = '/tmp/eng-names-pwned';
let markerBefore: string;

// Each of these, if it reached a shell or a path join, would hit MARKER or create PWNED.
const hostileNames = ['a;reboot', '$(id)', '../../etc/x', '../eng-names-marker', `x;touch ${PWNED}`, `$(touch ${PWNED})`, '`touch /tmp/eng-names-pwned`', '-rf', '.eng', 'a b', 'a\nb'];
const hostilePaths = ['/var/lib/ferry/images/../../../etc/shadow', '/var/lib/ferry/../eng-names-marker.json', '/var/lib/ferry/eng x', `/tmp/x;touch ${PWNED}`, 'var/lib/ferry/relative', '/var/lib/ferry/./eng'];

async function hostFacts(): Promise<string> {
  // Content and mtime of the marker, and whether anything a hostile name could create exists.
  return lab.sh('a', `stat -c '%Y %s' ${MARKER}; md5sum ${MARKER}; ls -d ${PWNED} /etc/x /var/lib/ferry/vms/*reboot* /var/lib/ferry/pools/*reboot* /run/ferry/*reboot* 2>/dev/null; true`);
}

beforeAll(async () => {
  lab = await labEngine();
  await lab.sh('a', `rm -f ${PWNED}; printf '{"eng":"marker"}\\n' > ${MARKER}`);
  markerBefore = await hostFacts();
  // Drop the connections hosts.add opened: a refused call must not open one again.
  await lab.engine.connections.disconnect('a');
  await lab.engine.connections.disconnect('b');
});

afterAll(async () => {
  await lab?.engine.close();
  await lab?.sh('a', `rm -f ${MARKER} ${PWNED}`);
});

async function refused(channel: Channel, input: Record<string, unknown>, field: string): Promise<void> {
  const error = await rejection(lab.engine.call(channel, input));
  expect(error.code, `${channel} ${JSON.stringify(input)}`).toBe('invalid-input');
  expect((error.details?.['problems'] as string[]).some((problem) => problem.startsWith(`${field}:`)), error.message).toBe(true);
}

const vmBase = { host: 'a', name: 'eng-names-vm', memoryMiB: 64, vcpus: 1, accel: 'tcg' };

describe('names and paths are refused before anything runs', () => {
  it.each(hostileNames)('refuses the name %j in vms.define, pools.define, volumes.create, vms.start', async (name) => {
    await refused('vms.define', { ...vmBase, name }, 'name');
    await refused('pools.define', { host: 'a', pool: name, type: 'dir', path: '/var/lib/ferry/eng-names-pool' }, 'pool');
    await refused('volumes.create', { host: 'a', pool: 'eng-names-pool', name, capacity: '1M' }, 'name');
    await refused('volumes.create', { host: 'a', pool: name, name: 'v.qcow2', capacity: '1M' }, 'pool');
    await refused('vms.start', { host: 'a', name }, 'name');
    await refused('vms.undefine', { host: 'a', name }, 'name');
    await refused('volumes.delete', { host: 'a', pool: 'eng-names-pool', name }, 'name');
    await refused('hosts.info', { host: name }, 'host');
  });

  it.each(hostilePaths)('refuses the path %j for disks, kernels, pools, backing files and sockets', async (path) => {
    await refused('vms.define', { ...vmBase, disks: [{ path }] }, 'disks.0.path');
    await refused('vms.define', { ...vmBase, kernel: path }, 'kernel');
    await refused('vms.define', { ...vmBase, kernel: '/boot/vmlinuz', initrd: path }, 'initrd');
    await refused('pools.define', { host: 'a', pool: 'eng-names-pool', type: 'dir', path }, 'path');
    await refused('volumes.create', { host: 'a', pool: 'eng-names-pool', name: 'v.qcow2', capacity: '1M', backing: path }, 'backing');
    await refused('vms.adopt', { host: 'a', name: 'eng-names-vm', qmpSocket: path }, 'qmpSocket');
  });

  it('refuses kernel arguments that would reach a shell', async () => {
    for (const append of ['console=ttyS0; reboot', 'init=$(id)', 'a`id`', "quote'd", 'line\nbreak']) {
      await refused('vms.define', { ...vmBase, kernel: '/boot/vmlinuz', append }, 'append');
    }
  });

  it('opened no connection and left the host untouched', async () => {
    expect(lab.engine.connections.state('a')).toBeUndefined();
    expect(lab.engine.connections.state('b')).toBeUndefined();
    const after = await hostFacts();
    expect(after).toBe(markerBefore);
    expect(after).not.toContain(PWNED);
    expect(after).not.toContain('/etc/x');
    expect(await lab.sh('a', `cat ${MARKER}`)).toBe('{"eng":"marker"}\n');
  });
});
