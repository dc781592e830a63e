import { Command } from 'commander';
import type { VmDetails } from '../../core/api/types.js';
import { DEFAULT_CPU_MODEL } from '../../core/api/vm-hardware.js';
import { FerryError } from '../../core/errors.js';
import { formatBytes, printError, table } from '../output.js';
import { jsonFlag, runChannel } from '../run.js';
import { listAllVms } from './vm-list-all.js';
import { addHardwareOptions, describeHardware, hardwareInput, type HardwareOptions } from '../vm-hardware-options.js';


/** ", block device of 2.0 GiB" for a disk that is a host device, as its host said just now. */
const blockDeviceWords = (usage: VmDetails['diskUsage'][number] | undefined) =>
  usage?.blockDevice ? `, block device${usage.virtualSizeBytes === null ? '' : ` of ${formatBytes(usage.virtualSizeBytes)}`}` : '';

const describeVm = (vm: VmDetails) =>
  [
    `Name:        ${vm.name} on ${vm.host}`,
    `State:       ${vm.state}${vm.qemuStatus && vm.qemuStatus !== vm.state ? ` (QEMU: ${vm.qemuStatus})` : ''}${vm.pid ? `, pid ${vm.pid}` : ''}`,
    `Memory:      ${vm.memoryMiB} MiB`,
    `vCPUs:       ${vm.vcpus}`,
    ...(vm.definition ? [`Machine:     ${vm.definition.machineType}, CPU ${vm.definition.cpuModel}, accel ${vm.definition.accel}`] : []),
    ...(vm.definition?.disks ?? []).map((disk, index) => `Disk ${index}:      ${disk.path} (${disk.format}, cache=${disk.cache}${blockDeviceWords(vm.diskUsage?.[index])})`),
    ...describeHardware(vm),
    `Monitor:     ${vm.qmpSocket}`,
    `Serial log:  ${vm.serialLog}`,
  ].join('\n');

function parseDisk(spec: string): { path: string; format?: 'qcow2' | 'raw'; cache?: 'none' } {
  const [path = '', ...options] = spec.split(',');
  const disk: { path: string; format?: 'qcow2' | 'raw'; cache?: 'none' } = { path };
  for (const option of options) {
    const [key, value] = option.split('=');
    if (key === 'format' && (value === 'qcow2' || value === 'raw')) disk.format = value;
    else if (key === 'cache' && value) disk.cache = value as 'none';
    else throw new FerryError('invalid-input', `Unknown disk option "${option}" in --disk ${spec}`, { hint: 'Use --disk PATH[,format=qcow2|raw][,cache=none|writeback|...]' });
  }
  return disk;
}

/** vms.define has no "eject": a CD-ROM is given or not. */
function definedHardware({ cdrom, ...rest }: ReturnType<typeof hardwareInput>) {
  return { ...rest, ...(typeof cdrom === 'string' ? { cdrom } : {}) };
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function vmCommand(): Command {
  const vm = new Command('vm').description('virtual machines on a host');
  addHardwareOptions(vm
    .command('define <host> <name>')
    .description('define a VM (QEMU driven directly)')
    .requiredOption('--memory <mib>', 'memory in MiB', Number)
    .requiredOption('--vcpus <n>', 'virtual CPUs', Number)
    .option('--disk <path[,format=F]>', 'a disk image (repeat for more)', collect, [])
    .option('--machine <type>', 'versioned machine type (default: the host QEMU\'s q35)')
    .option('--cpu <model>', 'named CPU model', DEFAULT_CPU_MODEL)
    .option('--accel <accel>', 'auto | kvm | tcg', 'auto')
    .option('--nic <model>', 'none | virtio-net-pci | e1000', 'none')
    .option('--kernel <path>', 'direct kernel boot: kernel on the host')
    .option('--initrd <path>', 'direct kernel boot: initrd on the host')
    .option('--append <args>', 'direct kernel boot: kernel command line'))
    .action(async (host: string, name: string, options: HardwareOptions & { memory: number; vcpus: number; disk: string[]; machine?: string; cpu: string; accel: string; nic: string; kernel?: string; initrd?: string; append?: string }, command: Command) => {
      let disks;
      let hardware;
      try {
        disks = options.disk.map(parseDisk);
        hardware = hardwareInput(options);
      } catch (error) {
        printError(error, { json: jsonFlag(command) });
        return;
      }
      await runChannel(
        command,
        'vms.define',
        {
          host,
          name,
          memoryMiB: options.memory,
          vcpus: options.vcpus,
          disks,
          cpuModel: options.cpu,
          accel: options.accel as 'auto',
          nic: options.nic as 'none',
          ...definedHardware(hardware),
          ...(options.machine ? { machineType: options.machine } : {}),
          ...(options.kernel ? { kernel: options.kernel } : {}),
          ...(options.initrd ? { initrd: options.initrd } : {}),
          ...(options.append ? { append: options.append } : {}),
        },
        (result) => `Defined\n${describeVm(result)}`,
      );
    });
  addHardwareOptions(vm
    .command('edit <host> <name>')
    .description('change a stopped VM\'s hardware; what is not given stays (--net replaces all NICs)')
    .option('--memory <mib>', 'memory in MiB', Number)
    .option('--vcpus <n>', 'virtual CPUs', Number)
    .option('--cpu <model>', 'named CPU model, or host')
    .option('--disk <path[,format=F]>', 'the disks, replacing the present ones (repeat for more)', collect, [])
    .option('--eject', 'remove the CD-ROM'))
    .action(async (host: string, name: string, options: HardwareOptions & { memory?: number; vcpus?: number; cpu?: string; disk: string[] }, command: Command) => {
      let input;
      try {
        input = {
          host,
          name,
          ...hardwareInput(options),
          ...(options.memory !== undefined ? { memoryMiB: options.memory } : {}),
          ...(options.vcpus !== undefined ? { vcpus: options.vcpus } : {}),
          ...(options.cpu ? { cpuModel: options.cpu } : {}),
          ...(options.disk.length > 0 ? { disks: options.disk.map(parseDisk) } : {}),
        };
      } catch (error) {
        printError(error, { json: jsonFlag(command) });
        return;
      }
      await runChannel(command, 'vms.update', input, (result) => `Updated\n${describeVm(result)}`);
    });
  vm
    .command('list [host]')
    .description('list VMs with their state (every saved host when none is named)')
    .action(async (host: string | undefined, _options: object, command: Command) => {
      if (host === undefined) {
        await listAllVms(command);
        return;
      }
      await runChannel(command, 'vms.list', { host }, (vms) =>
        vms.length === 0 ? `No VMs on ${host}.` : table(['NAME', 'STATE', 'MEMORY', 'VCPUS'], vms.map((entry) => [entry.name, entry.state, `${entry.memoryMiB} MiB`, entry.vcpus])),
      );
    });
  vm
    .command('info <host> <name>')
    .description('state, configuration, monitor socket and serial log of a VM')
    .action(async (host: string, name: string, _options: object, command: Command) => {
      await runChannel(command, 'vms.info', { host, name }, describeVm);
    });
  for (const [verb, channel, summary] of [
    ['start', 'vms.start', 'start a defined VM'],
    ['pause', 'vms.pause', 'pause a running VM'],
    ['resume', 'vms.resume', 'resume a paused VM'],
    ['destroy', 'vms.destroy', 'force a VM off (like pulling the plug)'],
  ] as const) {
    vm
      .command(`${verb} <host> <name>`)
      .description(summary)
      .action(async (host: string, name: string, _options: object, command: Command) => {
        await runChannel(command, channel, { host, name }, describeVm);
      });
  }
  vm
    .command('shutdown <host> <name>')
    .description('ask the guest to power off (ACPI), forcing it off after a timeout')
    .option('--timeout <seconds>', 'seconds to wait before forcing it off', Number, 60)
    .action(async (host: string, name: string, options: { timeout: number }, command: Command) => {
      await runChannel(command, 'vms.shutdown', { host, name, timeoutMs: Math.round(options.timeout * 1000) }, describeVm);
    });
  vm
    .command('undefine <host> <name>')
    .description('delete a stopped VM\'s definition (its disks are kept)')
    .action(async (host: string, name: string, _options: object, command: Command) => {
      await runChannel(command, 'vms.undefine', { host, name }, () => `Undefined ${name}`);
    });
  vm
    .command('adopt <host> <name>')
    .description('take over a QEMU started by hand, by its QMP socket')
    .requiredOption('--qmp <socket>', 'path of its -qmp unix socket')
    .action(async (host: string, name: string, options: { qmp: string }, command: Command) => {
      await runChannel(command, 'vms.adopt', { host, name, qmpSocket: options.qmp }, describeVm);
    });
  vm
    .command('console <host> <name>')
    .description('print the end of the serial console log')
    .option('--bytes <n>', 'how much of the end to print', Number, 16384)
    .action(async (host: string, name: string, options: { bytes: number }, command: Command) => {
      await runChannel(command, 'vms.serial', { host, name, tailBytes: options.bytes }, (result) => result.text);
    });
  return vm;
}

