import { describe, expect, it } from 'vitest';
import type { HostInfo, VmDefinition } from '../../../src-main/core/api/types.js';
import { cpuModelCheck } from '../../../src-main/core/migration/cpu-check.js';

const host = (cpuModel: string, kvmUsable = true): HostInfo => ({
  name: 'h', hostname: 'h', cpuModel, cpuCount: 4, memoryTotalBytes: 1, memoryAvailableBytes: 1, qemuVersion: '7.2.0', qemuBinary: 'qemu-system-x86_64',
  machineTypes: [], defaultMachineType: 'pc-q35-7.2', kvmUsable, stateDir: '/var/lib/ferry', qemuFeatures: null,
});
const vm = (cpuModel: string): VmDefinition => ({ name: 'hw-cpu', memoryMiB: 64, vcpus: 1, machineType: 'pc-q35-7.2', cpuModel, accel: 'kvm', disks: [], nic: null, createdAt: '' });
const hosts = { from: 'a', to: 'b' };

describe('cpuModelCheck', () => {
  it('has nothing to say about a named model', () => {
    expect(cpuModelCheck(vm('Nehalem-v1'), host('Xeon A'), host('EPYC B', false), hosts)).toEqual([]);
  });

  it('allows host passthrough only between hosts with the same CPU and KVM on the destination', () => {
    expect(cpuModelCheck(vm('host'), host('Xeon A'), host('Xeon A'), hosts)).toEqual([expect.objectContaining({ level: 'ok', check: 'cpu' })]);
    const differ = cpuModelCheck(vm('host'), host('Xeon A'), host('EPYC B'), hosts);
    expect(differ).toEqual([expect.objectContaining({ level: 'error', check: 'cpu', message: expect.stringContaining('"EPYC B"') })]);
    expect(differ[0]?.hint).toContain('Nehalem-v1');
    expect(cpuModelCheck(vm('host'), host('Xeon A'), host('Xeon A', false), hosts)[0]).toMatchObject({ level: 'error', message: expect.stringContaining('needs KVM') });
  });
});
