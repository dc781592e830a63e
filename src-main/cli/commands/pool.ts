import { Command } from 'commander';
import type { PoolSummary } from '../../core/api/types.js';
import { formatBytes, table } from '../output.js';
import { runChannel } from '../run.js';

const describePool = (pool: PoolSummary) =>
  `${pool.name} (${pool.type}) ${pool.path} ${pool.active ? `active, ${formatBytes(pool.availableBytes)} free of ${formatBytes(pool.capacityBytes)}` : 'inactive'}`;

export function poolCommand(): Command {
  const pool = new Command('pool').description('storage pools on a host');
  pool
    .command('define <host> <pool>')
    .description('define (and start) a storage pool')
    .requiredOption('--type <type>', 'dir | netfs | shared | disk')
    .option('--path <path>', 'directory (dir), mount point (netfs), shared path (shared), or where the devices are named (disk: /dev, the default, lists every block device)')
    .option('--source <server:/export>', 'NFS export to mount (netfs only)')
    .option('--no-autostart', 'define only, do not start')
    .action(async (host: string, name: string, options: { type: string; path?: string; source?: string; autostart: boolean }, command: Command) => {
      const path = options.path ?? (options.type === 'disk' ? '/dev' : undefined);
      if (path === undefined) {
        command.error(`error: a ${options.type} pool needs --path (only a disk pool defaults to /dev)`);
      }
      await runChannel(
        command,
        'pools.define',
        { host, pool: name, type: options.type as 'dir', path, autostart: options.autostart, ...(options.source ? { source: options.source } : {}) },
        (result) => `Defined ${describePool(result)}`,
      );
    });
  pool
    .command('list <host>')
    .description('list pools with capacity, allocation and free space')
    .action(async (host: string, _options: object, command: Command) => {
      await runChannel(command, 'pools.list', { host }, (pools) =>
        pools.length === 0
          ? `No pools on ${host}: define one with \`ferry pool define ${host} NAME --type dir --path /var/lib/ferry/images\`.`
          : table(
              ['NAME', 'TYPE', 'STATE', 'PATH', 'CAPACITY', 'ALLOCATION', 'AVAILABLE'],
              pools.map((entry) => [entry.name, entry.type, entry.active ? 'active' : 'inactive', entry.path, formatBytes(entry.capacityBytes), formatBytes(entry.allocationBytes), formatBytes(entry.availableBytes)]),
            ),
      );
    });
  for (const [verb, channel, done] of [
    ['start', 'pools.start', 'Started'],
    ['stop', 'pools.stop', 'Stopped'],
  ] as const) {
    pool
      .command(`${verb} <host> <pool>`)
      .description(`${verb} a pool`)
      .action(async (host: string, name: string, _options: object, command: Command) => {
        await runChannel(command, channel, { host, pool: name }, (result) => `${done} ${describePool(result)}`);
      });
  }
  pool
    .command('delete <host> <pool>')
    .description('forget a pool definition (its volumes stay on disk)')
    .action(async (host: string, name: string, _options: object, command: Command) => {
      await runChannel(command, 'pools.delete', { host, pool: name }, () => `Deleted pool ${name}`);
    });
  return pool;
}
