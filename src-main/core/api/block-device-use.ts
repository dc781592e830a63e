import type { BlockDeviceUse } from './types.js';

/**
 * One line for what holds a block device, the same in the CLI and the GUI. Plain TypeScript
 * without Node imports: the renderer shows it next to each device.
 */
export function describeDeviceUse(use: BlockDeviceUse): string {
  switch (use.kind) {
    case 'free':
      return 'free';
    case 'mounted':
      return `mounted at ${use.mountpoints.join(', ')}`;
    case 'vm':
      return `in use by VM ${use.vms.join(', ')}`;
    case 'holds-devices':
      return `holds ${use.devices.join(', ')}`;
    case 'signature':
      if (use.usage === 'filesystem') return `filesystem ${use.signature}`;
      if (use.usage === 'lvm-pv') return `LVM physical volume (${use.signature})`;
      if (use.usage === 'partition-table') return `partition table (${use.signature})`;
      return `signature ${use.signature}`;
  }
}

/** True when a device can be given to a VM or used as a migration target without overwriting anything Ferry knows of. */
export function deviceIsFree(use: BlockDeviceUse): boolean {
  return use.kind === 'free';
}
