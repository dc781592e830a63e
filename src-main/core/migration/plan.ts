import type { HostInfo, VmDefinition } from '../api/types.js';
import { FerryError } from '../errors.js';
import { readHostInfo } from '../host/info.js';
import { listPools } from '../storage/pools.js';
import type { HostTransport } from '../ssh/transport.js';
import { loadDefinition, monitorSocket, vmDetails } from '../vm/lifecycle.js';
import { destinationPath, inspectDisks, isSameFile } from './disks.js';
import type { MigrationOptions, PlannedDisk } from './run-context.js';
import { isSameDevice } from './same-device.js';
import { hostBlockDevices } from '../vm/block-devices.js';

/** What a migration will move, from where to where, as read from both hosts. */
export interface Plan {
  definition: VmDefinition;
  source: HostTransport;
  destination: HostTransport;
  sourceInfo: HostInfo;
  destinationInfo: HostInfo;
  disks: PlannedDisk[];
  sourceState: Awaited<ReturnType<typeof vmDetails>>['state'];
  sourceSocket: string;
  destinationAddress: string;
  destPoolPath: string | undefined;
  destPoolProblem: string | undefined;
}

export interface PlanHosts {
  transport(host: string): Promise<HostTransport>;
  hostAddress(host: string): Promise<string>;
}

export type PlanOptions = Pick<MigrationOptions, 'vm' | 'from' | 'to' | 'destPool'> & { address?: string | undefined; diskTargets?: Record<string, string> | undefined };

export async function planMigration(hosts: PlanHosts, options: PlanOptions): Promise<Plan> {
  const [source, destination] = await Promise.all([hosts.transport(options.from), hosts.transport(options.to)]);
  const definitionRead = loadDefinition({ name: options.from, transport: source }, options.vm).then((found) => {
    if (!found) throw new FerryError('not-found', `There is no VM "${options.vm}" on ${options.from}`, { hint: `\`ferry vm list ${options.from}\` shows the VMs there.` });
    return found;
  });
  // Everything that asks a host runs side by side: each is a round trip, some spawn QEMU.
  const [definition, details, sourceInfo, destinationInfo, sourceDisks, pools, destinationAddress] = await Promise.all([
    definitionRead,
    vmDetails({ name: options.from, transport: source }, options.vm),
    readHostInfo(options.from, source),
    readHostInfo(options.to, destination),
    definitionRead.then((found) => inspectDisks(source, found)),
    options.destPool ? listPools(destination) : Promise.resolve([]),
    options.address ?? hosts.hostAddress(options.to),
  ]);
  let destPoolPath: string | undefined;
  let destPoolProblem: string | undefined;
  if (options.destPool) {
    const pool = pools.find((candidate) => candidate.name === options.destPool);
    if (!pool) destPoolProblem = `There is no pool ${options.destPool} on ${options.to}.`;
    else if (pool.problem !== undefined) destPoolProblem = `Pool ${options.destPool} on ${options.to}: ${pool.problem}.`;
    else if (!pool.active) destPoolProblem = `Pool ${options.destPool} on ${options.to} is not started.`;
    else destPoolPath = pool.path;
  }
  const targets = sourceDisks.map((disk) => {
    const named = options.diskTargets?.[disk.disk.path];
    if (named !== undefined) return named;
    const target = destinationPath(disk, destPoolPath);
    return disk.isBlockDevice && destPoolPath ? `${target}.raw` : target;
  });
  const targetDevices = await hostBlockDevices(destination, targets);
  const disks = await Promise.all(
    sourceDisks.map(async (disk, index): Promise<PlannedDisk> => {
      const target = targets[index] ?? disk.disk.path;
      const sameFile = disk.isBlockDevice ? isSameDevice : isSameFile;
      const shared = target === disk.disk.path && (await sameFile(source, destination, disk.disk.path));
      // Under /dev a target is a device even when missing: pre-flight says so instead of creating a file there.
      // So is a device's own path kept on the destination: a file is never made where a device was meant.
      const destinationDevice = (targetDevices[index] ?? false) || target.startsWith('/dev/') || (disk.isBlockDevice && target === disk.disk.path);
      return { source: disk, destinationPath: target, shared, ...(destinationDevice ? { destinationDevice } : {}) };
    }),
  );
  return {
    definition,
    source,
    destination,
    sourceInfo,
    destinationInfo,
    disks,
    sourceState: details.state,
    sourceSocket: monitorSocket(definition, options.vm),
    destinationAddress,
    destPoolPath,
    destPoolProblem,
  };
}
