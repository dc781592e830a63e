import { describe, expect, it } from 'vitest';
import type { VmDefinition } from '../../../src-main/core/api/types.js';
import { vmDefineInput } from '../../../src-main/core/api/contract.js';
import { vmDefinitionSchema } from '../../../src-main/core/vm/definition.js';
import { vmLayout } from '../../../src-main/core/vm/layout.js';
import { buildQemuArgv } from '../../../src-main/core/vm/qemu-argv.js';

const base: VmDefinition = {
  name: 'web1',
  memoryMiB: 256,
  vcpus: 1,
  machineType: 'pc-q35-7.2',
  cpuModel: 'qemu64',
  accel: 'tcg',
  disks: [],
  nic: null,
  createdAt: '2025-01-01T00:00:00.000Z',
};

const devices = (argv: string[]) => argv.flatMap((arg, index) => (arg === '-device' ? [argv[index + 1] ?? ''] : []));

describe('display device', () => {
  it('a VGA display is a fixed-id device; a definition without one (older Ferry) gets none, as before', () => {
    expect(devices(buildQemuArgv({ ...base, display: 'vga' }, vmLayout('web1'), { kvmUsable: false }))).toContain('VGA,id=ferry-vga0');
    expect(devices(buildQemuArgv(base, vmLayout('web1'), { kvmUsable: false })).some((d) => d.startsWith('VGA'))).toBe(false);
    expect(devices(buildQemuArgv({ ...base, display: 'none' }, vmLayout('web1'), { kvmUsable: false })).some((d) => d.startsWith('VGA'))).toBe(false);
  });

  it('new VMs get VGA by default, and definitions written before the field still parse', () => {
    expect(vmDefineInput.parse({ host: 'a', name: 'web1', memoryMiB: 64, vcpus: 1 }).display).toBe('vga');
    const old = vmDefinitionSchema.parse(base);
    expect(old.display).toBeUndefined();
  });
});
