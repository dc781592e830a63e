import { describe, expect, it } from 'vitest';
import type { VmDefinition } from '../../../src-main/core/api/types.js';
import { vmLayout } from '../../../src-main/core/vm/layout.js';
import { tapDeviceName } from '../../../src-main/core/vm/nic-names.js';
import { buildQemuArgv, QEMU_SANDBOX } from '../../../src-main/core/vm/qemu-argv.js';

function definition(overrides: Partial<VmDefinition> = {}): VmDefinition {
  return {
    name: 'hw1',
    memoryMiB: 256,
    vcpus: 1,
    machineType: 'pc-q35-7.2',
    cpuModel: 'Nehalem-v1',
    accel: 'tcg',
    disks: [],
    nic: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

function values(argv: string[], option: string): string[] {
  return argv.flatMap((arg, index) => (arg === option ? [argv[index + 1] ?? ''] : []));
}

const layout = vmLayout('hw1');

describe('buildQemuArgv: NICs', () => {
  it('builds an older single-NIC definition exactly as before, so VMs started then still migrate', () => {
    const argv = buildQemuArgv(definition({ nic: { model: 'e1000', mac: '52:54:00:aa:bb:cc' } }), layout, { kvmUsable: false });
    expect(values(argv, '-netdev')).toEqual(['user,id=ferry-net0']);
    expect(values(argv, '-device')).toContain('e1000,netdev=ferry-net0,id=ferry-nic0,mac=52:54:00:aa:bb:cc');
  });

  it('gives each NIC of the list its own netdev and device id, and a bridge NIC its named tap without scripts', () => {
    const argv = buildQemuArgv(
      definition({
        nics: [
          { model: 'virtio-net-pci', mac: '52:54:00:00:00:01', network: { type: 'bridge', bridge: 'br0' } },
          { model: 'e1000', mac: '52:54:00:00:00:02', network: { type: 'user' } },
        ],
      }),
      layout,
      { kvmUsable: false },
    );
    expect(values(argv, '-netdev')).toEqual([`tap,id=ferry-net0,ifname=${tapDeviceName('hw1', 0)},script=no,downscript=no`, 'user,id=ferry-net1']);
    expect(values(argv, '-device')).toEqual(
      expect.arrayContaining(['virtio-net-pci,netdev=ferry-net0,id=ferry-nic0,mac=52:54:00:00:00:01', 'e1000,netdev=ferry-net1,id=ferry-nic1,mac=52:54:00:00:00:02']),
    );
  });

  it('prefers the NIC list over the older field when both are there', () => {
    const argv = buildQemuArgv(definition({ nic: { model: 'e1000', mac: '52:54:00:aa:bb:cc' }, nics: [] }), layout, { kvmUsable: false });
    expect(values(argv, '-netdev')).toEqual([]);
  });
});

describe('buildQemuArgv: confinement', () => {
  it('runs every Ferry-built QEMU under the seccomp sandbox, with the options -daemonize survives', () => {
    const argv = buildQemuArgv(definition(), layout, { kvmUsable: false });
    expect(values(argv, '-sandbox')).toEqual([QEMU_SANDBOX]);
    expect(QEMU_SANDBOX).toMatch(/^on,/);
    expect(QEMU_SANDBOX).not.toMatch(/spawn=deny|elevateprivileges=deny/);
  });

  it('leaves an adopted QEMU its own command line', () => {
    const argv = buildQemuArgv(definition({ adopted: { argv: ['qemu-system-x86_64', '-m', '64'], qmpSocket: '/run/x.qmp' } }), layout, { kvmUsable: false });
    expect(argv).toEqual(['qemu-system-x86_64', '-m', '64']);
  });
});

describe('buildQemuArgv: CD-ROM and boot order', () => {
  const disk = { path: '/var/lib/ferry/images/hw1.qcow2', format: 'qcow2' as const, cache: 'none' as const };

  it('adds no CD-ROM and no bootindex to a definition without them, as before', () => {
    const argv = buildQemuArgv(definition({ disks: [disk], nic: { model: 'e1000', mac: '52:54:00:aa:bb:cc' } }), layout, { kvmUsable: false });
    expect(argv.join(' ')).not.toMatch(/bootindex|ide-cd/);
  });

  it('attaches the ISO read-only and numbers the boot devices in the order given', () => {
    const argv = buildQemuArgv(
      definition({
        disks: [disk, { ...disk, path: '/var/lib/ferry/images/hw1-data.qcow2' }],
        nics: [{ model: 'e1000', mac: '52:54:00:00:00:01', network: { type: 'user' } }],
        cdrom: '/srv/iso/alma,9.iso',
        boot: ['cdrom', 'network', 'disk'],
      }),
      layout,
      { kvmUsable: false },
    );
    const devices = values(argv, '-device');
    expect(values(argv, '-blockdev')).toContain('driver=file,node-name=ferry-cdfile,filename=/srv/iso/alma,,9.iso,read-only=on');
    expect(devices).toContain('ide-cd,drive=ferry-cdrom,id=ferry-cd0,bootindex=1');
    expect(devices).toContain('e1000,netdev=ferry-net0,id=ferry-nic0,mac=52:54:00:00:00:01,bootindex=2');
    expect(devices).toContain('virtio-blk-pci,drive=ferry-disk0,id=ferry-vd0,bootindex=3');
    expect(devices).toContain('virtio-blk-pci,drive=ferry-disk1,id=ferry-vd1');
  });
});

describe('buildQemuArgv: firmware', () => {
  it('gives a UEFI VM the shared OVMF code read-only and its own variable store; BIOS adds nothing', () => {
    const uefi = buildQemuArgv(definition({ firmware: 'uefi' }), layout, { kvmUsable: false });
    expect(values(uefi, '-drive')).toEqual([
      'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
      'if=pflash,format=raw,unit=1,file=/var/lib/ferry/nvram/hw1_VARS.fd',
    ]);
    expect(values(buildQemuArgv(definition(), layout, { kvmUsable: false }), '-drive')).toEqual([]);
  });
});
