import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { definitionFromDomain, parseDomainXml } from '../../../src-main/core/libvirt/domain-xml.js';

/** Fixtures are `virsh dumpxml` output taken from the lab's libvirtd (libvirt 9.0, QEMU 7.2). */
const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('libvirt domain XML', () => {
  it('reads a running domain: id, memory in KiB, vCPUs, machine, custom CPU model, kernel boot, a qcow2 disk with cache=none, the serial file', () => {
    const domain = parseDomainXml(fixture('domain-running-disk-serial.xml'));
    expect(domain).toMatchObject({
      name: 'lv-core-fix1',
      uuid: 'ae294c8e-de1e-4056-b3fb-8a9ba1822838',
      id: 1,
      domainType: 'qemu',
      memoryMiB: 128,
      vcpus: 1,
      machineType: 'pc-q35-7.2',
      cpuMode: 'custom',
      cpuModel: 'qemu64',
      firmware: 'bios',
      kernel: { path: '/var/lib/ferry-lab/guest/vmlinuz', initrd: '/var/lib/ferry-lab/guest/initrd.img', append: 'console=ttyS0' },
      serialFile: '/var/lib/libvirt/lv-core-fix1.serial.log',
      nics: [],
    });
    expect(domain.disks).toEqual([
      { device: 'disk', type: 'file', path: '/var/lib/libvirt/images/lv-core-fix1.qcow2', format: 'qcow2', cache: 'none', target: 'vda', bus: 'virtio', readOnly: false, backingPath: null },
    ]);
  });

  it('reads a shut-off UEFI domain with a block disk, a data disk without a cache setting, a CD-ROM and three kinds of NIC', () => {
    const domain = parseDomainXml(fixture('domain-efi-block-nics.xml'));
    expect(domain).toMatchObject({ name: 'lv-core-fix2', id: null, memoryMiB: 256, vcpus: 2, firmware: 'uefi', cpuMode: 'host-model', cpuModel: null, serialFile: null, kernel: null });
    expect(domain.disks.map(({ device, type, path, format, cache, target, readOnly }) => ({ device, type, path, format, cache, target, readOnly }))).toEqual([
      { device: 'disk', type: 'block', path: '/dev/loop7', format: 'raw', cache: 'writethrough', target: 'vda', readOnly: false },
      { device: 'disk', type: 'file', path: '/var/lib/libvirt/images/lv-core-fix2-data.qcow2', format: 'qcow2', cache: null, target: 'vdb', readOnly: false },
      { device: 'cdrom', type: 'file', path: '/var/lib/libvirt/images/installer.iso', format: 'raw', cache: null, target: 'sda', readOnly: true },
    ]);
    expect(domain.nics).toEqual([
      { type: 'bridge', source: 'br0', model: 'virtio', mac: '52:54:00:12:34:56' },
      { type: 'user', source: null, model: 'e1000', mac: '52:54:00:12:34:57' },
      { type: 'network', source: 'default', model: 'rtl8139', mac: '52:54:00:12:34:58' },
    ]);
  });

  it('gives the part Ferry\'s definition can hold: devices marked, libvirt\'s default cache as QEMU\'s writeback, only NICs Ferry can describe', () => {
    const definition = definitionFromDomain(parseDomainXml(fixture('domain-efi-block-nics.xml')));
    expect(definition).toMatchObject({ name: 'lv-core-fix2', memoryMiB: 256, vcpus: 2, machineType: 'pc-q35-7.2', cpuModel: 'host-model', accel: 'tcg', firmware: 'uefi', cdrom: '/var/lib/libvirt/images/installer.iso', boot: ['disk'] });
    expect(definition.disks).toEqual([
      { path: '/dev/loop7', format: 'raw', cache: 'writethrough', blockDevice: true },
      { path: '/var/lib/libvirt/images/lv-core-fix2-data.qcow2', format: 'qcow2', cache: 'writeback' },
    ]);
    expect(definition.nics).toEqual([
      { model: 'virtio-net-pci', mac: '52:54:00:12:34:56', network: { type: 'bridge', bridge: 'br0' } },
      { model: 'e1000', mac: '52:54:00:12:34:57', network: { type: 'user' } },
    ]);
    expect(definition.nic).toEqual({ model: 'virtio-net-pci', mac: '52:54:00:12:34:56' });
  });

  it('refuses XML that is not a domain, saying it is libvirt\'s answer that could not be read', () => {
    expect(() => parseDomainXml('<pool type="dir"><name>x</name></pool>')).toThrow(expect.objectContaining({ code: 'internal', message: expect.stringContaining('<name>') }));
    expect(() => parseDomainXml('<domain><name>a</name')).toThrow(expect.objectContaining({ code: 'internal' }));
  });
});
