import type { SavedHost } from '../core/host/registry.js';
import { FerryError } from '../core/errors.js';

export interface HostUri {
  user?: string;
  address: string;
  port: number;
}

const SSH_URI = /^qemu\+ssh:\/\/(?:([^@/]+)@)?(\[[^\]/]+\]|[^:/]+)(?::(\d+))?\/system\/?$/;
const LOCAL_URI = 'qemu:///system';

export const isHostUri = (text: string) => text.startsWith('qemu+ssh://') || text.startsWith('qemu://');

/** `qemu+ssh://[user@]address[:port]/system` as its parts; anything else that looks like a URI is refused. */
export function parseHostUri(text: string): HostUri {
  const match = SSH_URI.exec(text);
  const port = match?.[3] === undefined ? 22 : Number(match[3]);
  if (!match?.[2] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new FerryError('invalid-input', `"${text}" is not a host URI Ferry understands`, { hint: 'Write it as qemu+ssh://[USER@]ADDRESS[:PORT]/system, or give the saved host\'s name (`ferry host list`).' });
  }
  return { address: match[2].replace(/^\[|\]$/g, ''), port, ...(match[1] ? { user: decodeURIComponent(match[1]) } : {}) };
}

/**
 * The saved host a URI names: same address (case-insensitive), port (22 when left out) and user.
 * A URI without a user matches a host saved without one, or the one host saved at that address.
 */
export function resolveHostUri(text: string, hosts: SavedHost[]): string {
  if (text === LOCAL_URI) {
    const local = hosts.find((host) => host.transport === 'local');
    if (local) return local.name;
    throw new FerryError('not-found', `No saved host is ${LOCAL_URI}`, { hint: 'Add this machine with `ferry host add NAME --local`, or name a saved host (`ferry host list`).' });
  }
  const uri = parseHostUri(text);
  const atAddress = hosts.flatMap((host) => (host.transport === 'ssh' && host.address.toLowerCase() === uri.address.toLowerCase() && (host.port ?? 22) === uri.port ? [host] : []));
  const matching = uri.user !== undefined ? atAddress.filter((host) => host.user === uri.user) : atAddress.length === 1 ? atAddress : atAddress.filter((host) => host.user === undefined);
  if (matching.length === 1 && matching[0]) return matching[0].name;
  if (matching.length > 1) {
    throw new FerryError('invalid-input', `${text} names more than one saved host: ${matching.map((host) => host.name).join(', ')}`, { hint: 'Give the host\'s name instead (`ferry host list`).' });
  }
  const target = `${uri.user ? `${uri.user}@` : ''}${uri.address.includes(':') ? `[${uri.address}]` : uri.address}${uri.port === 22 ? '' : `:${uri.port}`}`;
  throw new FerryError('not-found', `No saved host is ${text}`, {
    hint: `Add it first: \`ferry host add NAME --ssh ${target}\`, then use the URI or NAME. \`ferry host list\` shows the saved ones.`,
  });
}

/**
 * Every host URI in the arguments (a word of its own, or after `--option=`) replaced by the saved
 * host's name, so every command that names a host takes either. `ferry host add` is left as typed:
 * the host it names is not saved yet.
 */
export function resolveHostUrisInArgs(args: string[], hosts: SavedHost[]): string[] {
  const words = args.filter((arg) => !arg.startsWith('-'));
  if (words[0] === 'host' && words[1] === 'add') return args;
  return args.map((arg) => {
    if (isHostUri(arg)) return resolveHostUri(arg, hosts);
    const option = /^(--[A-Za-z-]+=)(.*)$/.exec(arg);
    return option?.[1] !== undefined && option[2] !== undefined && isHostUri(option[2]) ? `${option[1]}${resolveHostUri(option[2], hosts)}` : arg;
  });
}

/** Where `ferry host add NAME URI` connects: a libvirt URI always means a libvirt host. */
export type HostAddTarget = { transport: 'local' } | { transport: 'ssh'; address: string; user?: string; port?: number };

/**
 * The connection a libvirt URI names, for saving it as a new host: this machine for qemu:///system,
 * else SSH to the URI's user, address and port (a port left out stays unset, so ~/.ssh/config may give one).
 */
export function hostAddTargetFromUri(text: string): HostAddTarget {
  if (text === LOCAL_URI) return { transport: 'local' };
  const { user, address, port } = parseHostUri(text);
  const portGiven = SSH_URI.exec(text)?.[3] !== undefined;
  return { transport: 'ssh', address, ...(user !== undefined ? { user } : {}), ...(portGiven ? { port } : {}) };
}
