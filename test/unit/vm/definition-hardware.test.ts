import { describe, expect, it } from 'vitest';
import { vmDefineInput } from '../../../src-main/core/api/contract.js';
import { DEFAULT_CPU_MODEL } from '../../../src-main/core/api/vm-hardware.js';
import { definitionBridges, definitionFromArgs, definitionNics, vmDefinitionSchema } from '../../../src-main/core/vm/definition.js';

const older = {
  name: 'old1',
  memoryMiB: 128,
  vcpus: 1,
  machineType: 'pc-q35-7.2',
  cpuModel: 'qemu64',
  accel: 'tcg',
  disks: [],
  nic: { model: 'virtio-net-pci', mac: '52:54:00:12:34:56' },
  createdAt: '2025-01-01T00:00:00.000Z',
};

describe('VM definitions written before NIC lists', () => {
  it('still parse, unchanged, and their one NIC is a user-mode NIC with the same MAC', () => {
    const parsed = vmDefinitionSchema.parse(older);
    expect(parsed.cpuModel).toBe('qemu64');
    expect(parsed.nics).toBeUndefined();
    expect(definitionNics(parsed)).toEqual([{ model: 'virtio-net-pci', mac: '52:54:00:12:34:56', network: { type: 'user' } }]);
    expect(definitionNics({ ...parsed, nic: null })).toEqual([]);
  });
});

describe('NIC lists in definitions', () => {
  it('refuses a MAC that could add QEMU options, a multicast MAC and a bridge name that is not an interface name', () => {
    const withNic = (nic: object) => vmDefinitionSchema.safeParse({ ...older, nics: [nic] }).success;
    expect(withNic({ model: 'e1000', mac: '52:54:00:12:34:56', network: { type: 'bridge', bridge: 'br0' } })).toBe(true);
    expect(withNic({ model: 'e1000', mac: '52:54:00:12:34:56,romfile=/x', network: { type: 'user' } })).toBe(false);
    expect(withNic({ model: 'e1000', mac: '01:00:5e:00:00:01', network: { type: 'user' } })).toBe(false);
    expect(withNic({ model: 'e1000', mac: '52:54:00:12:34:56', network: { type: 'bridge', bridge: 'a-very-long-bridge-name' } })).toBe(false);
    expect(withNic({ model: 'e1000', mac: '52:54:00:12:34:56', network: { type: 'bridge', bridge: '-br' } })).toBe(false);
  });

  it('lists each bridge a VM needs once', () => {
    const parsed = vmDefinitionSchema.parse({
      ...older,
      nics: [
        { model: 'e1000', mac: '52:54:00:00:00:01', network: { type: 'bridge', bridge: 'br0' } },
        { model: 'e1000', mac: '52:54:00:00:00:02', network: { type: 'bridge', bridge: 'br0' } },
        { model: 'e1000', mac: '52:54:00:00:00:03', network: { type: 'user' } },
      ],
    });
    expect(definitionBridges(parsed)).toEqual(['br0']);
  });
});

describe('vms.define input', () => {
  it('defaults to a CPU model with x86-64-v2, not qemu64', () => {
    const args = vmDefineInput.parse({ host: 'a', name: 'n1', memoryMiB: 64, vcpus: 1 });
    expect(args.cpuModel).toBe(DEFAULT_CPU_MODEL);
    expect(DEFAULT_CPU_MODEL).not.toBe('qemu64');
  });

  it('turns the older nic choice into one user-mode NIC with a fresh MAC', () => {
    const definition = definitionFromArgs(vmDefineInput.parse({ host: 'a', name: 'n1', memoryMiB: 64, vcpus: 1, nic: 'e1000' }), 'pc-q35-7.2', []);
    expect(definition.nics).toEqual([{ model: 'e1000', mac: expect.stringMatching(/^52:54:00(:[0-9a-f]{2}){3}$/), network: { type: 'user' } }]);
  });

  it('keeps a given MAC and the bridge of each NIC, and chooses MACs for the others', () => {
    const args = vmDefineInput.parse({
      host: 'a', name: 'n1', memoryMiB: 64, vcpus: 1,
      nics: [{ network: { type: 'bridge', bridge: 'br0' }, mac: '52:54:00:AB:CD:EF' }, {}],
    });
    const nics = definitionNics(definitionFromArgs(args, 'pc-q35-7.2', []));
    expect(nics[0]).toEqual({ model: 'virtio-net-pci', mac: '52:54:00:ab:cd:ef', network: { type: 'bridge', bridge: 'br0' } });
    expect(nics[1]?.network).toEqual({ type: 'user' });
    expect(nics[1]?.mac).not.toBe(nics[0]?.mac);
  });
});

describe('CD-ROM, boot order and autostart in definitions', () => {
  it('parses them, refuses a boot device named twice, and holds the ISO path to the disk-path rules', () => {
    expect(vmDefinitionSchema.parse({ ...older, cdrom: '/srv/iso/a.iso', boot: ['cdrom', 'disk'], autostart: true })).toMatchObject({ cdrom: '/srv/iso/a.iso', boot: ['cdrom', 'disk'], autostart: true });
    expect(vmDefinitionSchema.safeParse({ ...older, boot: ['disk', 'disk'] }).success).toBe(false);
    expect(vmDefinitionSchema.safeParse({ ...older, cdrom: '/etc/shadow' }).success).toBe(false);
    expect(vmDefineInput.safeParse({ host: 'a', name: 'n1', memoryMiB: 64, vcpus: 1, cdrom: 'relative.iso' }).success).toBe(false);
  });

  it('carries them from vms.define into the definition', () => {
    const definition = definitionFromArgs(vmDefineInput.parse({ host: 'a', name: 'n1', memoryMiB: 64, vcpus: 1, cdrom: '/srv/iso/a.iso', boot: ['cdrom', 'disk'], autostart: true }), 'pc-q35-7.2', []);
    expect(definition).toMatchObject({ cdrom: '/srv/iso/a.iso', boot: ['cdrom', 'disk'], autostart: true });
  });
});

describe('the path rule the renderer shares', () => {
  it('judges paths exactly as before without node:path', async () => {
    const { absolutePathSchema } = await import('../../../src-main/core/api/names.js');
    const ok = (value: string) => absolutePathSchema.safeParse(value).success;
    expect(['/', '/srv/pool', '/srv/pool/'].every(ok)).toBe(true);
    expect(['/srv//pool', '/srv/./pool', '/srv/../etc', '/srv/pool//', 'srv'].some(ok)).toBe(false);
  });
});
