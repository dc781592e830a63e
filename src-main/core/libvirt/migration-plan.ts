import type { ChannelArgs } from '../api/contract.js';

export type LibvirtMigrationOptions = ChannelArgs<'migrations.start'>;

/** Mebibytes per second, as migrate-setspeed and --bandwidth take them (whole numbers, at least 1). */
export function libvirtBandwidth(mibps: number): string {
  return String(Math.max(1, Math.round(mibps)));
}

/**
 * The `virsh migrate` arguments for a live or block migration. --p2p: the source libvirtd opens
 * the destination connection itself and runs every phase, so the move does not hang on the virsh
 * process Ferry started (both p2p and the direct client mode work through the forwarded socket).
 * The data goes host to host, to the address Ferry knows for the destination.
 */
export function liveMigrateArgs(options: LibvirtMigrationOptions, destinationUri: string, destinationAddress: string, provenShared = false): string[] {
  const args = ['migrate', '--live', '--p2p', '--persistent', '--undefinesource', '--verbose'];
  // libvirt trusts only file systems it knows to be shared (NFS, GFS2, …) and calls any other
  // storage unsafe. Ferry has proven each disk is the very same file on both hosts (a marker file
  // and the inode), which is what libvirt's check stands in for.
  if (options.mode === 'live' && provenShared) args.push('--unsafe');
  if (options.mode === 'block') args.push(options.incremental ? '--copy-storage-inc' : '--copy-storage-all');
  if (options.postcopy) args.push('--postcopy');
  if (options.autoConverge) args.push('--auto-converge');
  if (options.bandwidthMiBps !== undefined) args.push('--bandwidth', libvirtBandwidth(options.bandwidthMiBps));
  if (options.multifd !== undefined) args.push('--parallel', '--parallel-connections', String(options.multifd));
  args.push(options.vm, destinationUri, '--migrateuri', `tcp://${uriHost(destinationAddress)}`);
  if (options.mode === 'block') args.push('--disks-uri', `tcp://${uriHost(destinationAddress)}`);
  return args;
}

/** Offline: only the definition moves (libvirt copies no storage offline; Ferry has copied the disks). */
export function offlineMigrateArgs(options: LibvirtMigrationOptions, destinationUri: string): string[] {
  return ['migrate', '--offline', '--p2p', '--persistent', '--undefinesource', options.vm, destinationUri];
}

function uriHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
