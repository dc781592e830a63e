import { describe, expect, it } from 'vitest';
import type { VmDefinition } from '../../../src-main/core/api/types.js';
import { autostartScript } from '../../../src-main/core/vm/autostart.js';
import { parseHostFacts } from '../../../src-main/core/vm/host-facts.js';
import { tapDeviceName } from '../../../src-main/core/vm/nic-names.js';
import { QEMU_SANDBOX } from '../../../src-main/core/vm/qemu-argv.js';

const definition: VmDefinition = {
  name: 'hw-a',
  memoryMiB: 128,
  vcpus: 1,
  machineType: 'pc-q35-7.2',
  cpuModel: 'Nehalem-v1',
  accel: 'auto',
  disks: [],
  nic: null,
  nics: [{ model: 'virtio-net-pci', mac: '52:54:00:00:00:09', network: { type: 'bridge', bridge: 'br0' } }],
  autostart: true,
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('autostartScript', () => {
  it('does nothing unless the definition on the host still says autostart, and needs the bridge', () => {
    const script = autostartScript(definition, true);
    const lines = script.split('\n');
    expect(lines[2]).toBe(`grep -q '"autostart": true' /var/lib/ferry/vms/hw-a.json 2>/dev/null || exit 0`);
    expect(script).toContain("[ -d /sys/class/net/br0/bridge ] || {");
    expect(script).toContain(`ip link set dev ${tapDeviceName('hw-a', 0)} master br0`);
    // Started as vms.start would (accel resolved for the host), never waiting for a migration.
    expect(script).toContain('-accel kvm');
    expect(script).not.toMatch(/-incoming|(^| )-S( |$)/m);
  });
});

describe('parseHostFacts', () => {
  it('says what confines a running QEMU and what would start it at boot', () => {
    const facts = parseHostFacts('autostart-script=yes\nboot-service=systemd-enabled\nseccomp=2\nuser=root\n', definition, true);
    expect(facts).toEqual({ confinement: { sandbox: QEMU_SANDBOX, seccompActive: true, user: 'root' }, autostart: { script: true, bootService: 'systemd-enabled' } });
  });

  it('reports a QEMU without a filter, an adopted VM and an unknown answer as they are', () => {
    const adopted = { ...definition, adopted: { argv: ['qemu-system-x86_64'], qmpSocket: '/run/x.qmp' } };
    const facts = parseHostFacts('autostart-script=no\nboot-service=weird\nseccomp=0\nuser=qemu\n', adopted, true);
    expect(facts.confinement).toEqual({ sandbox: null, seccompActive: false, user: 'qemu' });
    expect(facts.autostart).toEqual({ script: false, bootService: 'no-systemd' });
  });
});
