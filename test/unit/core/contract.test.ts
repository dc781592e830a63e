import { describe, expect, it } from 'vitest';
import { channelNames, isChannel } from '../../../src-main/core/api/contract.js';
import { parseChannelInput } from '../../../src-main/core/api/validate.js';
import { FerryError } from '../../../src-main/core/errors.js';

function invalid(channel: Parameters<typeof parseChannelInput>[0], input: unknown): FerryError {
  try {
    parseChannelInput(channel, input);
  } catch (error) {
    if (error instanceof FerryError) return error;
    throw error;
  }
  throw new Error(`${channel} accepted ${JSON.stringify(input)}`);
}

describe('parseChannelInput', () => {
  it('lists every bad field with its path', () => {
    const error = invalid('vms.define', { host: 'a;reboot', name: '$(id)', memoryMiB: 'lots', vcpus: 0, disks: [{ path: '../../etc/x' }], append: 'init=$(id)' });
    expect(error.code).toBe('invalid-input');
    const problems = error.details?.['problems'] as string[];
    const fields = problems.map((problem) => problem.split(':')[0]);
    expect(fields).toEqual(expect.arrayContaining(['host', 'name', 'memoryMiB', 'vcpus', 'disks.0.path', 'append']));
    expect(error.message).toMatch(/^Invalid vms\.define request: /);
    for (const field of ['host', 'name', 'memoryMiB', 'vcpus', 'disks.0.path', 'append']) expect(error.message).toContain(`${field}:`);
    expect(error.hint).toBeTruthy();
    expect(error.details?.['channel']).toBe('vms.define');
  });

  it('reports a missing input object as missing fields, not a crash', () => {
    const error = invalid('hosts.info', undefined);
    expect(error.details?.['problems']).toEqual([expect.stringMatching(/^host: /)]);
  });

  it('fills defaults and converts sizes', () => {
    const args = parseChannelInput('volumes.create', { host: 'a', pool: 'p', name: 'v.qcow2', capacity: '1G' });
    expect(args).toEqual({ host: 'a', pool: 'p', name: 'v.qcow2', capacity: 1024 ** 3, format: 'qcow2', preallocation: 'off' });
    const vm = parseChannelInput('vms.define', { host: 'a', name: 'vm', memoryMiB: 64, vcpus: 1, disks: [{ path: '/var/lib/ferry/images/d/' }] });
    expect(vm.accel).toBe('auto');
    expect(vm.cpuModel).toBe('Nehalem-v1');
    expect(vm.nic).toBe('none');
    expect(vm.disks).toEqual([{ path: '/var/lib/ferry/images/d', cache: 'none' }]);
  });

  it('checks the size, the enums and the transport of hosts.add', () => {
    expect(invalid('volumes.create', { host: 'a', pool: 'p', name: 'v', capacity: '10X' }).message).toContain('capacity: "X" is not a size unit');
    expect(invalid('volumes.create', { host: 'a', pool: 'p', name: 'v', capacity: '1G', preallocation: 'all' }).message).toContain('preallocation:');
    expect(invalid('hosts.add', { transport: 'telnet', name: 'a' }).message).toContain('transport:');
    expect(invalid('hosts.add', { transport: 'ssh', name: 'a', address: 'host;reboot' }).message).toContain('address: must be a host name or an IP address');
    expect(invalid('hosts.add', { transport: 'ssh', name: 'a', address: 'h', trustFingerprint: 'MD5:aa' }).message).toContain('trustFingerprint:');
    expect(invalid('pools.define', { host: 'a', pool: 'p', type: 'netfs', path: '/mnt/x', source: 'server:/exp;reboot' }).message).toContain('source: must look like SERVER:/EXPORT');
  });

  it('knows exactly the channels of the contract', () => {
    expect(channelNames).toContain('vms.define');
    expect(isChannel('vms.define')).toBe(true);
    expect(isChannel('toString')).toBe(false);
    expect(isChannel('vms.hack')).toBe(false);
  });
});
