import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { expandHomePath } from '../local-path.js';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';
import { hostAddressProblem } from '../api/host-address.js';
import { FerryError } from '../errors.js';

/** What Ferry needs from ~/.ssh/config to reach a host the way `ssh <alias>` would. */
export interface ResolvedSshConfig {
  alias: string;
  hostName: string;
  /** Undefined when the config names no user; the caller picks the default. */
  user: string | undefined;
  port: number;
  identityFiles: string[];
  /** The raw ProxyJump value (`[user@]host[:port]`, comma separated), or undefined for none. */
  proxyJump: string | undefined;
}

export interface JumpHost {
  user: string | undefined;
  host: string;
  port: number | undefined;
}

export interface ResolveSshConfigOptions {
  configPath?: string;
  homeDir?: string;
  localUser?: string;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function all(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new FerryError('invalid-input', `Cannot read SSH config ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Resolves an alias like `ssh -G` would for the handful of options Ferry uses. `Match exec` is not
 * evaluated: resolving a host name must not run arbitrary commands from a desktop app.
 * `Include` is not followed (the parser does not support it).
 */
export async function resolveSshConfig(alias: string, options: ResolveSshConfigOptions = {}): Promise<ResolvedSshConfig> {
  const home = options.homeDir ?? homedir();
  const localUser = options.localUser ?? userInfo().username;
  const text = await readConfigText(options.configPath ?? join(home, '.ssh', 'config'));
  const computed = SSHConfig.parse(text).compute(alias, { ignoreCase: true, matchExec: false });

  const rawPort = first(computed['port']);
  const port = rawPort === undefined ? 22 : Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new FerryError('invalid-input', `SSH config gives host ${alias} an invalid Port ${JSON.stringify(rawPort)}`);
  }
  const user = first(computed['user']);
  const hostName = expandTokens(first(computed['hostname']) ?? alias, { alias, hostName: alias, user, localUser, home, port });
  // The resolved name reaches remote command lines and QEMU URIs (migration addresses), so it
  // is held to the rule typed addresses follow; the config file is not a trusted source.
  const problem = hostAddressProblem(hostName);
  if (problem !== null) {
    throw new FerryError('invalid-input', `SSH config gives host ${alias} the HostName ${JSON.stringify(hostName)}, which ${problem}`, {
      hint: `Fix the HostName line for ${alias} in ${options.configPath ?? '~/.ssh/config'}.`,
    });
  }
  const tokens = { alias, hostName, user: user ?? localUser, localUser, home, port };
  const identityFiles = all(computed['identityfile'])
    .filter((file) => file.toLowerCase() !== 'none')
    .map((file) => expandHomePath(expandTokens(file, tokens), home));
  const jump = first(computed['proxyjump']);

  return {
    alias,
    hostName,
    user,
    port,
    identityFiles,
    proxyJump: jump === undefined || jump.toLowerCase() === 'none' ? undefined : jump,
  };
}

interface TokenValues {
  alias: string;
  hostName: string;
  user: string | undefined;
  localUser: string;
  home: string;
  port: number;
}

/** The subset of ssh_config(5) TOKENS that needs no network or runtime state. */
function expandTokens(value: string, t: TokenValues): string {
  return value.replace(/%([%hrunpd])/g, (whole, token: string) => {
    switch (token) {
      case '%': return '%';
      case 'h': return t.hostName;
      case 'n': return t.alias;
      case 'r': return t.user ?? t.localUser;
      case 'u': return t.localUser;
      case 'p': return String(t.port);
      case 'd': return t.home;
      default: return whole;
    }
  });
}


/** Splits a ProxyJump value into hops, first hop first. */
export function parseProxyJump(value: string): JumpHost[] {
  return value.split(',').map((hop) => {
    const trimmed = hop.trim().replace(/^ssh:\/\//, '');
    const at = trimmed.lastIndexOf('@');
    const user = at === -1 ? undefined : trimmed.slice(0, at);
    const rest = at === -1 ? trimmed : trimmed.slice(at + 1);
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
    const plain = /^([^:]+)(?::(\d+))?$/.exec(rest);
    const match = bracketed ?? plain;
    if (match === null || match[1] === undefined) {
      throw new FerryError('invalid-input', `Cannot parse ProxyJump hop ${JSON.stringify(hop)}`);
    }
    return { user: user === '' ? undefined : user, host: match[1], port: match[2] === undefined ? undefined : Number(match[2]) };
  });
}
