import type { Command } from 'commander';
import type { ChannelInput } from '../core/api/contract.js';
import type { VmDetails } from '../core/api/types.js';
import { definitionNics } from '../core/api/vm-hardware.js';
import { FerryError } from '../core/errors.js';

type NicInput = NonNullable<ChannelInput<'vms.define'>['nics']>[number];

/** --net user[,model=M][,mac=X] or --net bridge=BR[,model=M][,mac=X]; the contract checks the values. */
export function parseNetSpec(spec: string): NicInput {
  const [first = '', ...rest] = spec.split(',');
  const nic: NicInput = {};
  const [kind, bridge] = first.split('=', 2);
  if (kind === 'user' && bridge === undefined) nic.network = { type: 'user' };
  else if (kind === 'bridge' && bridge) nic.network = { type: 'bridge', bridge };
  else throw new FerryError('invalid-input', `--net ${spec} names no network`, { hint: 'Start it with user or bridge=NAME, e.g. --net bridge=br0,model=e1000' });
  for (const option of rest) {
    const [key, value] = option.split('=', 2);
    if (key === 'model' && (value === 'virtio-net-pci' || value === 'e1000')) nic.model = value;
    else if (key === 'mac' && value) nic.mac = value;
    else throw new FerryError('invalid-input', `Unknown NIC option "${option}" in --net ${spec}`, { hint: 'Use model=virtio-net-pci|e1000 and mac=52:54:00:…' });
  }
  return nic;
}

export interface HardwareOptions {
  net: string[];
  cdrom?: string;
  eject?: boolean;
  boot?: string;
  firmware?: string;
  autostart?: boolean;
}

/** The options vm define and vm edit share. */
export function addHardwareOptions(command: Command): Command {
  return command
    .option('--net <spec>', 'a NIC: user[,model=M][,mac=X] or bridge=BR[,model=M][,mac=X] (repeat for more)', (value: string, previous: string[]) => [...previous, value], [])
    .option('--cdrom <iso>', 'an ISO image on the host, attached read-only (to install from)')
    .option('--boot <order>', 'boot order, e.g. cdrom,disk or network,disk')
    .option('--firmware <type>', 'bios | uefi (uefi needs OVMF on the host)')
    .option('--autostart', 'start the VM when the host boots')
    .option('--no-autostart', 'do not start the VM when the host boots');
}

/** The contract fields for what was given; the contract validates them. */
export function hardwareInput(options: HardwareOptions): Partial<ChannelInput<'vms.update'>> {
  const input: Partial<ChannelInput<'vms.update'>> = {};
  if (options.net.length > 0) input.nics = options.net.map(parseNetSpec);
  if (options.eject) input.cdrom = null;
  else if (options.cdrom) input.cdrom = options.cdrom;
  if (options.boot) input.boot = options.boot.split(',') as Array<'cdrom' | 'disk' | 'network'>;
  if (options.firmware) input.firmware = options.firmware as 'bios' | 'uefi';
  if (options.autostart !== undefined) input.autostart = options.autostart;
  return input;
}

export function describeHardware(vm: VmDetails): string[] {
  const definition = vm.definition;
  if (!definition) return [];
  const lines = definitionNics(definition).map(
    (nic, index) => `NIC ${index}:       ${nic.model} on ${nic.network.type === 'bridge' ? `bridge ${nic.network.bridge}` : 'user-mode'}, MAC ${nic.mac}`,
  );
  if (definition.cdrom) lines.push(`CD-ROM:      ${definition.cdrom}`);
  if (definition.boot?.length) lines.push(`Boot order:  ${definition.boot.join(', ')}`);
  lines.push(`Firmware:    ${definition.firmware === 'uefi' ? 'UEFI (OVMF)' : 'BIOS'}`);
  if (vm.confinement) {
    const active = vm.confinement.seccompActive === undefined ? '' : vm.confinement.seccompActive ? ', seccomp active' : ', no seccomp filter';
    lines.push(`Confinement: ${vm.confinement.sandbox ? `-sandbox ${vm.confinement.sandbox}` : 'adopted: its own command line'}${active}${vm.confinement.user ? `, user ${vm.confinement.user}` : ''}`);
  }
  const boot = vm.autostartFacts?.bootService === 'systemd-enabled' ? 'ferry-autostart.service runs it' : vm.autostartFacts?.bootService === 'systemd-disabled' ? 'ferry-autostart.service is not enabled' : 'no systemd: nothing runs the boot script';
  lines.push(`Autostart:   ${definition.autostart ? `on (${vm.autostartFacts?.script ? boot : 'no boot script yet'})` : 'off'}`);
  return lines;
}
