import { describe, expect, it } from 'vitest';
import type { VmDefinition, VmDisk } from '../../../src-main/core/api/types.js';
import { vmLayout } from '../../../src-main/core/vm/layout.js';
import { accelArgs, buildQemuArgv } from '../../../src-main/core/vm/qemu-argv.js';

function definition(overrides: Partial<VmDefinition> = {}): VmDefinition {
  return {
    name: 'web1',
    memoryMiB: 256,
    vcpus: 2,
    machineType: 'pc-q35-7.2',
    cpuModel: 'qemu64',
    accel: 'tcg',
    disks: [],
    nic: null,
    createdAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** The value after each occurrence of an option. */
function values(argv: string[], option: string): string[] {
  return argv.flatMap((arg, index) => (arg === option ? [argv[index + 1] ?? ''] : []));
}

describe('buildQemuArgv', () => {
  const layout = vmLayout('web1');

  it('builds the base command line from the definition and the layout', () => {
    const argv = buildQemuArgv(definition(), layout, { kvmUsable: false });
    expect(argv[0]).toBe('qemu-system-x86_64');
    expect(values(argv, '-machine')).toEqual(['pc-q35-7.2']);
    expect(values(argv, '-cpu')).toEqual(['qemu64']);
    expect(values(argv, '-m')).toEqual(['256M']);
    expect(values(argv, '-smp')).toEqual(['2']);
    expect(values(argv, '-accel')).toEqual(['tcg']);
    expect(values(argv, '-name')).toEqual(['guest=web1,process=ferry-web1']);
    expect(values(argv, '-qmp')).toEqual(['unix:/run/ferry/web1.qmp,server=on,wait=off']);
    expect(values(argv, '-vnc')).toEqual(['unix:/run/ferry/web1.vnc']);
    expect(values(argv, '-pidfile')).toEqual(['/run/ferry/web1.pid']);
    expect(values(argv, '-chardev')).toEqual(['socket,id=ferry-serial0,path=/run/ferry/web1.serial,server=on,wait=off,logfile=/var/lib/ferry/logs/web1.serial.log,logappend=on']);
    expect(values(argv, '-serial')).toEqual(['chardev:ferry-serial0']);
    expect(argv).toContain('-daemonize');
    expect(argv).toContain('-nodefaults');
    expect(argv).not.toContain('-incoming');
    expect(argv).not.toContain('-S');
  });

  it('gives every disk stable node names and device ids', () => {
    const disks: VmDisk[] = [
      { path: '/img/a.qcow2', format: 'qcow2', cache: 'none' },
      { path: '/img/b.raw', format: 'raw', cache: 'none' },
    ];
    const argv = buildQemuArgv(definition({ disks }), layout, { kvmUsable: false });
    expect(values(argv, '-blockdev')).toEqual([
      'driver=file,node-name=ferry-file0,filename=/img/a.qcow2,cache.direct=on,cache.no-flush=off',
      'driver=qcow2,node-name=ferry-disk0,file=ferry-file0,cache.direct=on,cache.no-flush=off',
      'driver=file,node-name=ferry-file1,filename=/img/b.raw,cache.direct=on,cache.no-flush=off',
      'driver=raw,node-name=ferry-disk1,file=ferry-file1,cache.direct=on,cache.no-flush=off',
    ]);
    expect(values(argv, '-device')).toEqual(['virtio-blk-pci,drive=ferry-disk0,id=ferry-vd0', 'virtio-blk-pci,drive=ferry-disk1,id=ferry-vd1']);
    // The same definition always gives the same command line: both sides of a migration rely on it.
    expect(buildQemuArgv(definition({ disks }), layout, { kvmUsable: false })).toEqual(argv);
  });

  it.each([
    ['none', 'on', 'off', ''],
    ['directsync', 'on', 'off', ',write-cache=off'],
    ['writeback', 'off', 'off', ''],
    ['writethrough', 'off', 'off', ',write-cache=off'],
    ['unsafe', 'off', 'on', ''],
  ] as const)('maps cache=%s to cache.direct=%s, cache.no-flush=%s', (cache, direct, noFlush, device) => {
    const argv = buildQemuArgv(definition({ disks: [{ path: '/img/a', format: 'raw', cache }] }), layout, { kvmUsable: false });
    for (const blockdev of values(argv, '-blockdev')) expect(blockdev).toContain(`cache.direct=${direct},cache.no-flush=${noFlush}`);
    expect(values(argv, '-device')).toEqual([`virtio-blk-pci,drive=ferry-disk0,id=ferry-vd0${device}`]);
  });

  it('doubles commas inside option values so a path cannot add options', () => {
    const argv = buildQemuArgv(definition({ disks: [{ path: '/img/a,file.locking=off', format: 'raw', cache: 'none' }] }), layout, { kvmUsable: false });
    expect(values(argv, '-blockdev')[0]).toBe('driver=file,node-name=ferry-file0,filename=/img/a,,file.locking=off,cache.direct=on,cache.no-flush=off');
  });

  it('adds a NIC with its MAC and a direct kernel boot', () => {
    const argv = buildQemuArgv(
      definition({ nic: { model: 'virtio-net-pci', mac: '52:54:00:aa:bb:cc' }, kernel: { path: '/boot/vmlinuz', initrd: '/boot/initrd.img', append: 'console=ttyS0,115200 quiet' } }),
      layout,
      { kvmUsable: true },
    );
    expect(values(argv, '-netdev')).toEqual(['user,id=ferry-net0']);
    expect(values(argv, '-device')).toEqual(['virtio-net-pci,netdev=ferry-net0,id=ferry-nic0,mac=52:54:00:aa:bb:cc']);
    expect(values(argv, '-kernel')).toEqual(['/boot/vmlinuz']);
    expect(values(argv, '-initrd')).toEqual(['/boot/initrd.img']);
    // -append is a plain argument, not a QEMU option list: its comma stays single.
    expect(values(argv, '-append')).toEqual(['console=ttyS0,115200 quiet']);
  });

  it('waits for an incoming migration with -incoming defer, stopped', () => {
    const argv = buildQemuArgv(definition(), layout, { kvmUsable: false, incoming: true });
    expect(values(argv, '-incoming')).toEqual(['defer']);
    expect(argv.filter((arg) => arg === '-S')).toHaveLength(1);
    expect(buildQemuArgv(definition(), layout, { kvmUsable: false, paused: true })).toContain('-S');
  });

  it('rebuilds an adopted VM from its own command line', () => {
    const adopted = ['qemu-system-x86_64', '-machine', 'none', '-qmp', 'unix:/run/x.qmp,server=on,wait=off'];
    const argv = buildQemuArgv(definition({ adopted: { argv: adopted, qmpSocket: '/run/x.qmp' } }), layout, { kvmUsable: false, incoming: true });
    expect(argv).toEqual([...adopted, '-incoming', 'defer', '-S']);
    expect(adopted).toHaveLength(5);
  });

  it('chooses the accelerator', () => {
    expect(accelArgs('tcg', true)).toEqual(['-accel', 'tcg']);
    expect(accelArgs('kvm', false)).toEqual(['-accel', 'kvm']);
    expect(accelArgs('auto', true)).toEqual(['-accel', 'kvm']);
    expect(accelArgs('auto', false)).toEqual(['-accel', 'tcg']);
  });
});
