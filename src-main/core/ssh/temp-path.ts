import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';

/**
 * A sibling of `path` to write before renaming over it: same directory, so the rename stays on one
 * filesystem and is atomic; hidden and randomised, so concurrent writers never share it.
 */
export function tempSiblingPath(path: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}.ferry-${randomBytes(6).toString('hex')}.tmp`);
}
