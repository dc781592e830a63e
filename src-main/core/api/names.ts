import { z } from 'zod';
import { hostAddressProblem } from './host-address.js';
import { isNormalAbsolutePath, sensitivePathMessage, type PathUse } from './path-rules.js';

/**
 * Names of hosts, VMs, pools and volumes end up in file names and in remote command lines, so
 * they are held to a small safe alphabet: letters, digits, dot, dash, underscore; no leading dot
 * or dash (a leading dash would read as an option to the tools it is passed to).
 */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

export const nameSchema = (what: string) =>
  z
    .string()
    .refine((value) => SAFE_NAME.test(value) && !value.includes('..'), {
      message: `${what} names may use letters, digits, '.', '-' and '_' (up to 64, not starting with '.' or '-')`,
    });

export const hostNameSchema = nameSchema('Host');
export const vmNameSchema = nameSchema('VM');
export const poolNameSchema = nameSchema('Pool');
export const volumeNameSchema = nameSchema('Volume');

/** A character set for paths that needs no shell tricks and cannot smuggle options or lines. */
const SAFE_PATH_CHARS = /^[A-Za-z0-9_./+@:,=-]+$/;

/**
 * Remote paths must be absolute and already normal: "/a/b/../c" is refused rather than silently
 * rewritten, because the user should see the path Ferry will really touch.
 */
export const absolutePathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((value) => value.startsWith('/'), { message: 'must be an absolute path (starting with /)' })
  .refine((value) => SAFE_PATH_CHARS.test(value), {
    message: "may use letters, digits and _ . / + @ : , = - only (no spaces or shell characters)",
  })
  // One trailing slash is allowed ("/srv/pool/"); the rule is plain TS so the renderer's forms run it too.
  .refine((value) => isNormalAbsolutePath(value.replace(/\/$/, '') || '/'), {
    message: 'must be a normalised path (no "..", "." or "//" segments)',
  })
  .refine((value) => !value.split('/').includes('..'), { message: 'must not contain ".."' })
  .transform((value) => (value.length > 1 ? value.replace(/\/+$/, '') : value));

/** A path given by the user for `use`: safe characters, normal, and not in a system or private place. */
const placedPathSchema = (use: PathUse) =>
  absolutePathSchema.superRefine((value, ctx) => {
    const message = sensitivePathMessage(value, use);
    if (message !== null) ctx.addIssue({ code: 'custom', message });
  });

export const poolPathSchema = placedPathSchema('pool');
export const diskPathSchema = placedPathSchema('disk');
export const kernelPathSchema = placedPathSchema('kernel');

/**
 * A path read back from a file on a host (a VM definition). Its characters are not limited like
 * typed input (an adopted VM's disk may have a space in its name; every use is quoted), but a
 * damaged or hostile file must not steer Ferry to a relative, "..", multi-line or system path:
 * a migration writes the disks at these paths on the destination.
 */
export const storedPathSchema = (use: PathUse) =>
  z
    .string()
    .max(4096)
    .refine((value) => !/[\0\n\r]/.test(value), { message: 'must not contain NUL or line breaks' })
    .refine((value) => isNormalAbsolutePath(value), { message: 'must be an absolute, normalised path (no "..", "." or "//")' })
    .superRefine((value, ctx) => {
      const message = sensitivePathMessage(value, use);
      if (message !== null) ctx.addIssue({ code: 'custom', message });
    });

/** A host name or IP address: the same rule for typed input and for HostName from ~/.ssh/config. */
export const hostAddressSchema = z.string().superRefine((value, ctx) => {
  const problem = hostAddressProblem(value);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

/** True when `child` is `parent` itself or lies below it. Both must be normalised absolute paths. */
export function isWithin(parent: string, child: string): boolean {
  if (parent === '/') return child.startsWith('/');
  return child === parent || child.startsWith(`${parent}/`);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  K: 1024,
  KB: 1000,
  KIB: 1024,
  M: 1024 ** 2,
  MB: 1000 ** 2,
  MIB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1000 ** 3,
  GIB: 1024 ** 3,
  T: 1024 ** 4,
  TB: 1000 ** 4,
  TIB: 1024 ** 4,
};

/** Parses "10G", "512MiB", "1.5 GiB" or a plain byte count. Units without "i" in K/M/G/T are powers of 1024, as qemu-img reads them. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a size: use a number with an optional unit, e.g. 10G, 512M, 1.5GiB`);
  const unit = SIZE_UNITS[(match[2] ?? '').toUpperCase()];
  if (unit === undefined) throw new Error(`"${match[2]}" is not a size unit: use B, K, M, G, T (or KiB, MiB, GiB, TiB, KB, MB, GB, TB)`);
  const bytes = Math.round(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`"${text}" must be a positive size`);
  return bytes;
}

// One transform over both kinds, not a union of two schemas: zod reports a failed union only as
// "Invalid input", which would hide parseSize's explanation from the user.
export const sizeSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value > 0) return value;
    ctx.addIssue({ code: 'custom', message: `${value} is not a size: give a positive whole number of bytes` });
    return z.NEVER;
  }
  try {
    return parseSize(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});
