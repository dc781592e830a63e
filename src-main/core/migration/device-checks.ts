import type { PreflightItem } from '../api/types.js';
import { shellCommand } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';

/** What the destination host says about one target device, read by one script for all of them. */
export interface DeviceReport {
  path: string;
  state: 'device' | 'absent' | 'not-a-device';
  /** The kernel's node behind the path (symlinks resolved). */
  realPath: string;
  sizeBytes: number;
  /** Where it or one of its partitions is mounted, "[swap]" for swap. */
  mounts: string[];
  /** Kernel devices stacked on it or its partitions (device-mapper, md). */
  holders: string[];
  /** Processes that have it or one of its partitions open: "pid (command)". */
  openBy: string[];
  /** blkid's findings: TYPE, PTTYPE and USAGE values. */
  signature: { type?: string; partitionTable?: string; usage?: string };
}

const MARK = '@@ferry-device';

/**
 * One shell script that reports every target device: existence, size, mounts (its own and its
 * partitions', by device number from /proc/self/mountinfo, and swap), holders from sysfs,
 * processes holding it open (their /proc/PID/fd links) and blkid's low-level probe. It only
 * reads: a device it refuses is left exactly as it was.
 */
export function deviceCheckScript(paths: readonly string[]): string {
  const perDevice = paths.map((path, index) => {
    const quoted = shellCommand([path]);
    return [
      `echo ${MARK} ${index}`,
      `if [ -b ${quoted} ]; then`,
      `  real=$(readlink -f -- ${quoted}); name=$(basename "$real"); s=/sys/class/block/$name`,
      '  echo "real $real"',
      '  echo "size $(( $(cat "$s/size") * 512 ))"',
      '  nodes=""; numbers=""',
      '  for d in "$s" "$s"/"$name"*; do',
      '    [ -r "$d/dev" ] || continue',
      '    nodes="$nodes /dev/$(basename "$d")"; numbers="$numbers $(cat "$d/dev")"',
      '    for h in "$d"/holders/*; do [ -e "$h" ] && echo "holder $(basename "$h")"; done',
      '  done',
      '  awk -v numbers="$numbers" \'BEGIN { n = split(numbers, list, " "); for (i = 1; i <= n; i++) wanted[list[i]] = 1 } ($3 in wanted) { print "mount " $5 }\' /proc/self/mountinfo',
      '  for node in $nodes; do',
      '    awk -v node="$node" \'NR > 1 && $1 == node { print "mount [swap]" }\' /proc/swaps 2>/dev/null',
      // One find over every process's fd links, not a readlink per descriptor.
      '    for pid in $(find /proc/[0-9]*/fd -maxdepth 1 -lname "$node" 2>/dev/null | cut -d/ -f3 | sort -u); do',
      '      echo "open $pid ($(cat "/proc/$pid/comm" 2>/dev/null))"',
      '    done',
      '  done',
      '  blkid -p -o export -- "$real" 2>/dev/null | sed -n -e "s/^TYPE=/type /p" -e "s/^PTTYPE=/pttype /p" -e "s/^USAGE=/usage /p"',
      `elif [ -e ${quoted} ]; then echo state not-a-device`,
      'else echo state absent',
      'fi',
    ].join('\n');
  });
  return [...perDevice, 'true'].join('\n');
}

export function parseDeviceReports(output: string, paths: readonly string[]): DeviceReport[] {
  const reports = paths.map((path): DeviceReport => ({ path, state: 'absent', realPath: path, sizeBytes: 0, mounts: [], holders: [], openBy: [], signature: {} }));
  let current: DeviceReport | undefined;
  for (const line of output.split('\n')) {
    if (line.startsWith(`${MARK} `)) {
      current = reports[Number(line.slice(MARK.length + 1))];
      if (current) current.state = 'device';
      continue;
    }
    if (!current) continue;
    const space = line.indexOf(' ');
    const key = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? '' : line.slice(space + 1).trim();
    if (key === 'state' && (value === 'absent' || value === 'not-a-device')) current.state = value;
    else if (key === 'real') current.realPath = value;
    else if (key === 'size') current.sizeBytes = Number(value);
    else if (key === 'mount' && !current.mounts.includes(value)) current.mounts.push(value);
    else if (key === 'holder' && !current.holders.includes(value)) current.holders.push(value);
    else if (key === 'open' && !current.openBy.includes(value)) current.openBy.push(value);
    else if (key === 'type') current.signature.type = value;
    else if (key === 'pttype') current.signature.partitionTable = value;
    else if (key === 'usage') current.signature.usage = value;
  }
  return reports;
}

export async function readDeviceReports(transport: HostTransport, paths: readonly string[]): Promise<DeviceReport[]> {
  if (paths.length === 0) return [];
  return parseDeviceReports(await transport.run(deviceCheckScript(paths), { timeoutMs: 60_000 }), paths);
}

/** What blkid found, in words, or null for a device with no signature. */
export function signatureWords(signature: DeviceReport['signature']): string | null {
  const found: string[] = [];
  if (signature.partitionTable) found.push(`a partition table (${signature.partitionTable})`);
  if (signature.type === 'LVM2_member') found.push('an LVM physical volume signature (LVM2_member)');
  else if (signature.type) found.push(signature.usage === 'filesystem' || signature.usage === undefined ? `a filesystem signature (${signature.type})` : `a ${signature.usage} signature (${signature.type})`);
  return found.length === 0 ? null : found.join(' and ');
}

export interface DeviceNeed {
  report: DeviceReport;
  host: string;
  /** The source disk's size in bytes. */
  sourceBytes: number;
  sourcePath: string;
  /** Block (live) copy needs exactly the source's size: the guest's disk must not change size under it. */
  exactSize: boolean;
  overwriteAllowed: boolean;
}

const MIB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(bytes % MIB === 0 ? 0 : 1)} MiB`;

/** The pre-flight items for one destination device; an error for every reason it must not be written. */
export function deviceItems(need: DeviceNeed): PreflightItem[] {
  const { report, host } = need;
  const where = `${report.path} on ${host}`;
  const error = (message: string, hint: string): PreflightItem => ({ level: 'error', check: 'device', message, hint });
  if (report.state === 'absent') {
    return [error(`${where} does not exist. Ferry writes onto an existing partition or logical volume; it never creates or partitions one.`, `Create it there first (at least ${mib(need.sourceBytes)}), or give an image file path as the disk's target.`)];
  }
  if (report.state === 'not-a-device') {
    return [error(`${where} exists but is not a block device.`, 'Give the path of a partition or logical volume, or an image file path outside /dev.')];
  }
  const items: PreflightItem[] = [];
  const node = report.realPath === report.path ? '' : ` (${report.realPath})`;
  if (need.exactSize && report.sizeBytes !== need.sourceBytes) {
    items.push(error(`${where}${node} has ${report.sizeBytes} bytes; a block migration needs exactly the ${need.sourceBytes} bytes of ${need.sourcePath}.`, 'Give a device of exactly that size, or use offline migration, which may write onto a larger one.'));
  } else if (report.sizeBytes < need.sourceBytes) {
    items.push(error(`${where}${node} has ${mib(report.sizeBytes)}; ${need.sourcePath} needs ${mib(need.sourceBytes)}.`, 'Give a device at least as large as the source disk.'));
  }
  if (report.mounts.length > 0) {
    items.push(error(`${where}${node} is mounted (${report.mounts.join(', ')}).`, 'Unmount it there (and remove it from /etc/fstab) first; Ferry never writes to a mounted device.'));
  }
  if (report.holders.length > 0) {
    items.push(error(`${where}${node} is held by ${report.holders.join(', ')} (device-mapper or RAID on top of it).`, 'Remove what is stacked on it (e.g. `dmsetup ls`, `cat /proc/mdstat`) or pick another device.'));
  }
  if (report.openBy.length > 0) {
    items.push(error(`${where}${node} is open by ${report.openBy.join(', ')}.`, 'Stop what uses it there (another VM, qemu-nbd, a tool) or pick another device.'));
  }
  const signature = signatureWords(report.signature);
  if (signature !== null && !need.overwriteAllowed) {
    items.push(error(`${where}${node} carries ${signature} (found by blkid -p).`, `If everything on it may be destroyed, allow it: --overwrite-device ${report.path} (or tick "Overwrite ${report.path}" in the Migrate dialog). Otherwise pick another device.`));
  } else if (signature !== null) {
    items.push({ level: 'warning', check: 'device', message: `${where}${node} carries ${signature}; it will be overwritten, as allowed.` });
  }
  if (items.every((item) => item.level !== 'error')) {
    items.push({ level: 'ok', check: 'device', message: `${where}${node} is a free block device of ${mib(report.sizeBytes)} for ${need.sourcePath}.` });
  }
  return items;
}
