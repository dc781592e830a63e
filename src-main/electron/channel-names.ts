import type { Channel } from '../core/api/contract.js';

/**
 * The contract's channel names as plain strings, so that the sandboxed preload can expose one
 * function per channel without bundling zod. The type check below fails the build if this list and
 * the contract ever disagree.
 */
export const CHANNEL_NAMES = [
  'hosts.list',
  'hosts.add',
  'hosts.remove',
  'hosts.connect',
  'hosts.info',
  'hosts.check',
  'hosts.stats',
  'hosts.evacuate',
  'pools.list',
  'pools.define',
  'pools.start',
  'pools.stop',
  'pools.delete',
  'volumes.list',
  'volumes.create',
  'volumes.info',
  'volumes.delete',
  'vms.list',
  'vms.info',
  'vms.define',
  'vms.undefine',
  'vms.start',
  'vms.pause',
  'vms.resume',
  'vms.shutdown',
  'vms.destroy',
  'vms.adopt',
  'vms.serial',
  'vms.update',
  'migrations.modes',
  'migrations.check',
  'migrations.start',
  'migrations.cancel',
  'migrations.tune',
  'migrations.list',
  'migrations.recover',
  'migrations.get',
  'migrations.export',
  'evacuations.get',
  'evacuations.cancel',
  'evacuations.list',
  'consoles.open',
  'consoles.write',
  'consoles.close',
  'inventory.subscribe',
  'inventory.refresh',
] as const satisfies readonly Channel[];

type Missing = Exclude<Channel, (typeof CHANNEL_NAMES)[number]>;
// If this line errors, a channel was added to the contract and not here.
export const channelListIsComplete: [Missing] extends [never] ? true : Missing = true;

/** IPC channel for engine events pushed to the renderer. */
export const EVENT_CHANNEL = 'ferry:event';
