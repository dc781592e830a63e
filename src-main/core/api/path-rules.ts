/**
 * Where Ferry may put pools and VM files on a host. Ferry works there as root, so a pool at
 * /etc or a disk image inside /usr would let one wrong (or hostile) value overwrite the host.
 * Plain TypeScript without Node imports: the renderer's forms use the same rules.
 */

export type PathUse = 'pool' | 'disk' | 'kernel';

interface Tree {
  path: string;
  why: string;
}

/** Nothing at or below these. */
const SYSTEM_TREES: Tree[] = [
  { path: '/etc', why: "the host's configuration" },
  { path: '/proc', why: 'a kernel interface, not storage' },
  { path: '/sys', why: 'a kernel interface, not storage' },
  { path: '/dev', why: "the host's devices (a disk image there would overwrite a device)" },
  { path: '/boot', why: "the host's boot files" },
  { path: '/usr', why: 'installed software' },
  { path: '/bin', why: 'installed software' },
  { path: '/sbin', why: 'installed software' },
  { path: '/lib', why: 'installed software' },
  { path: '/lib32', why: 'installed software' },
  { path: '/lib64', why: 'installed software' },
  { path: '/libx32', why: 'installed software' },
  { path: '/var/lib/ferry/pools', why: "Ferry's pool definitions" },
  { path: '/var/lib/ferry/vms', why: "Ferry's VM definitions" },
  { path: '/var/lib/ferry/logs', why: "Ferry's VM logs" },
  { path: '/run/ferry', why: "Ferry's VM sockets and pid files" },
];

/** Device files under /dev that are never a VM's disk. */
const NON_DISK_DEVICES = ['/dev/mem', '/dev/kmem', '/dev/port', '/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/shm', '/dev/pts', '/dev/fd', '/dev/stdin', '/dev/stdout', '/dev/stderr', '/dev/tty', '/dev/console', '/dev/kvm', '/dev/net', '/dev/mqueue', '/dev/hugepages', '/dev/cpu'];

/** Fine to have pools below, but not to be one: volumes would sit among everything else there. */
const PARENT_DIRECTORIES = ['/', '/home', '/root', '/run', '/var', '/var/lib', '/var/lib/ferry', '/srv', '/mnt', '/media', '/opt', '/tmp'];

/** Any path through one of these directories holds someone's keys. */
const PRIVATE_DIRECTORIES = ['.ssh', '.gnupg'];

function within(parent: string, path: string): boolean {
  return path === parent || path.startsWith(`${parent}/`);
}

/** True for "/a/b": absolute, no empty, "." or ".." segments, no trailing slash (except "/"). */
export function isNormalAbsolutePath(path: string): boolean {
  if (path === '/') return true;
  if (!path.startsWith('/')) return false;
  return path.slice(1).split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/**
 * Why `path` must not be used for `use`, or null when it may. `path` must already be a normal
 * absolute path. The kernel and initrd are only read, so /boot (where distributions keep them)
 * is allowed for them.
 */
export function sensitivePathProblem(path: string, use: PathUse): string | null {
  const privateSegment = path.split('/').find((segment) => PRIVATE_DIRECTORIES.includes(segment));
  if (privateSegment !== undefined) return `it is inside a ${privateSegment} directory, which holds private keys`;
  // A VM disk may be a host block device (a partition, an LVM volume: /dev/VG/lv); which device
  // may be written is for the migration's device checks, not for the path. Only device files
  // that are never disks are refused here.
  if (use === 'disk' && within('/dev', path)) {
    const device = NON_DISK_DEVICES.find((candidate) => within(candidate, path));
    return device === undefined ? null : `it is ${device}, a device that is never a disk`;
  }
  for (const tree of SYSTEM_TREES) {
    if (use === 'kernel' && tree.path === '/boot') continue;
    if (within(tree.path, path)) return `it is ${path === tree.path ? '' : 'inside '}${tree.path}, ${tree.why}`;
  }
  if (use === 'pool' && PARENT_DIRECTORIES.includes(path)) {
    return 'it is a directory shared with everything else on the host';
  }
  return null;
}

const USE_WORDS: Record<PathUse, { refused: string; instead: string }> = {
  pool: { refused: 'cannot hold a storage pool', instead: 'Give the pool a directory of its own, e.g. /var/lib/ferry/images or /srv/vm-images' },
  disk: { refused: 'cannot be a VM disk', instead: 'Use a volume in a storage pool, e.g. under /var/lib/ferry/images' },
  kernel: { refused: 'cannot be a kernel or initrd', instead: 'Use the file under /boot or next to the VM disks' },
};

/** A whole sentence for an error message: what is refused, why, and what to use instead. */
export function sensitivePathMessage(path: string, use: PathUse): string | null {
  const problem = sensitivePathProblem(path, use);
  if (problem === null) return null;
  return `${path} ${USE_WORDS[use].refused}: ${problem}. ${USE_WORDS[use].instead}.`;
}
