import { sensitivePathMessage } from './path-rules.js';
import type { PoolType } from './types.js';

/**
 * Why `path` cannot hold a pool of `type`, or null. A disk pool only reads: /dev (every device)
 * or a directory under it such as /dev/disk/by-id is where its devices are named, so it follows
 * the rules for disks there; anywhere else (a directory of symlinks to devices) the pool rules.
 */
export function poolPathMessage(path: string, type: PoolType): string | null {
  const underDev = path === '/dev' || path.startsWith('/dev/');
  return sensitivePathMessage(path, type === 'disk' && underDev ? 'disk' : 'pool');
}
