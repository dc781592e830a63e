import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { vmUpdateInput } from '../../../src-main/core/api/contract.js';
import type { VmDetails } from '../../../src-main/core/api/types.js';
import { addHardwareOptions, describeHardware, hardwareInput, parseNetSpec, type HardwareOptions } from '../../../src-main/cli/vm-hardware-options.js';

function parse(args: string[]): HardwareOptions {
  const command = addHardwareOptions(new Command('edit').option('--eject').exitOverride());
  command.parse(args, { from: 'user' });
  return command.opts<HardwareOptions>();
}

describe('--net', () => {
  it('reads user-mode and bridge NICs with their model and MAC', () => {
    expect(parseNetSpec('user')).toEqual({ network: { type: 'user' } });
    expect(parseNetSpec('bridge=br0,model=e1000,mac=52:54:00:00:00:01')).toEqual({ network: { type: 'bridge', bridge: 'br0' }, model: 'e1000', mac: '52:54:00:00:00:01' });
  });

  it('says how to write one it cannot read', () => {
    expect(() => parseNetSpec('br0')).toThrow(/names no network/);
    expect(() => parseNetSpec('bridge=')).toThrow(/names no network/);
    expect(() => parseNetSpec('user,speed=10')).toThrow(/Unknown NIC option "speed=10"/);
  });
});

describe('vm define / vm edit hardware options', () => {
  it('turn into a vms.update input the contract accepts, and leave out what was not given', () => {
    const input = hardwareInput(parse(['--net', 'bridge=br0', '--net', 'user', '--cdrom', '/var/lib/ferry/images/a.iso', '--boot', 'cdrom,disk', '--firmware', 'uefi', '--autostart']));
    expect(input).toEqual({
      nics: [{ network: { type: 'bridge', bridge: 'br0' } }, { network: { type: 'user' } }],
      cdrom: '/var/lib/ferry/images/a.iso',
      boot: ['cdrom', 'disk'],
      firmware: 'uefi',
      autostart: true,
    });
    expect(vmUpdateInput.safeParse({ host: 'a', name: 'v', ...input }).success).toBe(true);
    expect(hardwareInput(parse([]))).toEqual({});
    expect(hardwareInput(parse(['--eject', '--no-autostart']))).toEqual({ cdrom: null, autostart: false });
  });

  it('lets the contract refuse a bad boot device', () => {
    const input = hardwareInput(parse(['--boot', 'floppy']));
    expect(vmUpdateInput.safeParse({ host: 'a', name: 'v', ...input }).success).toBe(false);
  });
});

describe('vm info hardware lines', () => {
  it('show NICs, firmware, confinement and what starts the VM at boot', () => {
    const vm = {
      name: 'v', host: 'a', state: 'running', memoryMiB: 64, vcpus: 1, defined: true, qmpSocket: '', serialLog: '', vncSocket: '', diskUsage: [],
      definition: { name: 'v', memoryMiB: 64, vcpus: 1, machineType: 'pc-q35-7.2', cpuModel: 'Nehalem-v1', accel: 'tcg', disks: [], nic: { model: 'e1000', mac: '52:54:00:00:00:02' }, autostart: true, createdAt: '' },
      confinement: { sandbox: 'on,obsolete=deny', seccompActive: true, user: 'root' },
      autostartFacts: { script: true, bootService: 'no-systemd' },
    } satisfies VmDetails;
    const text = describeHardware(vm).join('\n');
    expect(text).toContain('NIC 0:       e1000 on user-mode, MAC 52:54:00:00:00:02');
    expect(text).toContain('Firmware:    BIOS');
    expect(text).toContain('Confinement: -sandbox on,obsolete=deny, seccomp active, user root');
    expect(text).toContain('Autostart:   on (no systemd: nothing runs the boot script)');
  });
});
