import { Command } from 'commander';
import { describeDeviceUse } from '../../core/api/block-device-use.js';
import type { VolumeInfo } from '../../core/api/types.js';
import { formatBytes, table } from '../output.js';
import { runChannel } from '../run.js';

const describeVolume = (volume: VolumeInfo) =>
  [
    `Name:        ${volume.name}`,
    `Path:        ${volume.path}`,
    `Format:      ${volume.format}`,
    `Capacity:    ${formatBytes(volume.virtualSizeBytes)}`,
    `Allocation:  ${formatBytes(volume.allocationBytes)}`,
    ...volume.backingChain.map((image, index) => `${index === 0 ? 'Backing:     ' : '             '}${image.path} (${image.format})`),
    ...(volume.device ? [`Device:      ${volume.device.devicePath} (${volume.device.type}${volume.device.readOnly ? ', read-only' : ''})`, `Use:         ${describeDeviceUse(volume.device.use)}`] : []),
  ].join('\n');

export function volCommand(): Command {
  const vol = new Command('vol').description('volumes (disk images) in a storage pool');
  vol
    .command('create <host> <pool> <name>')
    .description('create a volume (thin unless --preallocation is given)')
    .requiredOption('--capacity <size>', 'virtual size, e.g. 10G, 512M')
    .option('--format <format>', 'qcow2 | raw', 'qcow2')
    .option('--backing <path>', 'backing file (qcow2 only)')
    .option('--backing-format <format>', 'format of the backing file (read from it when left out)')
    .option('--preallocation <mode>', 'off | metadata | falloc | full', 'off')
    .action(async (host: string, pool: string, name: string, options: { capacity: string; format: string; backing?: string; backingFormat?: string; preallocation: string }, command: Command) => {
      await runChannel(
        command,
        'volumes.create',
        {
          host,
          pool,
          name,
          capacity: options.capacity,
          format: options.format as 'qcow2',
          preallocation: options.preallocation as 'off',
          ...(options.backing ? { backing: options.backing } : {}),
          ...(options.backingFormat ? { backingFormat: options.backingFormat as 'qcow2' } : {}),
        },
        (volume) => `Created\n${describeVolume(volume)}`,
      );
    });
  vol
    .command('list <host> <pool>')
    .description('list volumes of a pool')
    .action(async (host: string, pool: string, _options: object, command: Command) => {
      await runChannel(command, 'volumes.list', { host, pool }, (volumes) =>
        volumes.length === 0
          ? `Pool ${pool} has no volumes.`
          : volumes.some((volume) => volume.device !== undefined)
          ? table(
              ['NAME', 'PATH', 'SIZE', 'TYPE', 'USE'],
              volumes.map((volume) => [volume.name, volume.path, formatBytes(volume.virtualSizeBytes), volume.device?.type ?? '-', volume.device ? describeDeviceUse(volume.device.use) : '-']),
            )
          : table(
              ['NAME', 'FORMAT', 'CAPACITY', 'ALLOCATION', 'BACKING'],
              volumes.map((volume) => [volume.name, volume.format, formatBytes(volume.virtualSizeBytes), formatBytes(volume.allocationBytes), volume.backingChain[0]?.path ?? '-']),
            ),
      );
    });
  vol
    .command('info <host> <pool> <name>')
    .description('show one volume')
    .action(async (host: string, pool: string, name: string, _options: object, command: Command) => {
      await runChannel(command, 'volumes.info', { host, pool, name }, describeVolume);
    });
  vol
    .command('delete <host> <pool> <name>')
    .description('delete a volume (refused while a VM uses it)')
    .action(async (host: string, pool: string, name: string, _options: object, command: Command) => {
      await runChannel(command, 'volumes.delete', { host, pool, name }, () => `Deleted ${name}`);
    });
  return vol;
}
