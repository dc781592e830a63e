import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { expandHomePath } from '../local-path.js';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';
import { hostAddressProblem } from '../api/host-address.js';
import { FerryError } from '../errors.js';
import { isOpenSshDefaultIdentityList, parseSshGOutput, sshGArguments, strictHostKeyCheckingOf, systemSshG, type SshGRunner, type StrictHostKeyChecking } from './openssh-config.js';

/** What Ferry needs from ~/.ssh/config to reach a host the way `ssh <alias>` would. */
export interface ResolvedSshConfig {
  alias: string;
  hostName: string;
  /** Undefined when the config names no user; the caller picks the default. */
  user: string | undefined;
  port: number;
  /** Configured IdentityFiles, in the order ssh tries them; empty when only ssh's defaults apply. */
  identityFiles: string[];
  /** The raw ProxyJump value (`[user@]host[:port]`, comma separated), or undefined for none. */
  proxyJump: string | undefined;
  /** UserKnownHostsFile, expanded: the user's own files, which Ferry only reads. */
  userKnownHostsFiles: string[];
  /** GlobalKnownHostsFile, expanded: the system-wide files, which Ferry only reads. */
  globalKnownHostsFiles: string[];
  strictHostKeyChecking: StrictHostKeyChecking;
  /** Who resolved it: OpenSSH itself, or Ferry's own parser when ssh was missing or failed. */
  resolvedBy: 'ssh -G' | 'parser';
}

export interface JumpHost {
  user: string | undefined;
  host: string;
  port: number | undefined;
}

export interface ResolveSshConfigOptions {
  configPath?: string;
  /** Another home (tests). ssh cannot be told one, so giving it means Ferry's parser answers. */
  homeDir?: string;
  /** Another local user name (tests); like homeDir, it means Ferry's parser answers. */
  localUser?: string;
  /** Given as `ssh -p`: Match and tokens see it, and it wins over the config. */
  port?: number;
  /** Given as `ssh -l`: Match and tokens see it, and it wins over the config. */
  user?: string;
  /** How `ssh -G` is run (tests pass a fake); false for Ferry's parser only. Default: ssh on PATH. */
  sshG?: SshGRunner | false;
  /** Told why ssh -G could not be used, when the parser answers instead. */
  debug?: (note: string) => void;
}

const DEFAULT_GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function all(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Space-separated file lists (UserKnownHostsFile) as one value or several. */
function fileList(value: string | string[] | undefined): string[] {
  return all(value).flatMap((entry) => entry.split(/\s+/)).filter((entry) => entry !== '' && entry.toLowerCase() !== 'none');
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
 * Resolves an alias as `ssh <alias>` would: by asking OpenSSH (`ssh -G`), which follows Include,
 * Match and every other rule exactly, when ssh is installed; otherwise by Ferry's own parser,
 * which does not follow Include and does not run `Match exec`.
 */
export async function resolveSshConfig(alias: string, options: ResolveSshConfigOptions = {}): Promise<ResolvedSshConfig> {
  if (alias.startsWith('-')) throw new FerryError('invalid-input', `${JSON.stringify(alias)} is not a host name: it starts with "-"`, { hint: 'Give a host name, address or ~/.ssh/config alias.' });
  const runner = options.sshG ?? (options.homeDir === undefined && options.localUser === undefined ? systemSshG() : false);
  if (runner !== false) {
    let output: string | undefined;
    try {
      output = await runner(sshGArguments(alias, options));
    } catch (error) {
      options.debug?.(`ssh config for ${alias}: using Ferry's parser, because ${(error as Error).message}`);
    }
    if (output !== undefined) return fromSshG(alias, parseSshGOutput(output), options);
  } else {
    options.debug?.(`ssh config for ${alias}: using Ferry's parser, because ssh -G was not asked`);
  }
  return fromParser(alias, options);
}

function checkedPort(alias: string, rawPort: string | undefined): number {
  const port = rawPort === undefined ? 22 : Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new FerryError('invalid-input', `SSH config gives host ${alias} an invalid Port ${JSON.stringify(rawPort)}`);
  }
  return port;
}

// The resolved name reaches remote command lines and QEMU URIs (migration addresses), so it is held
// to the rule typed addresses follow; the config file is not a trusted source.
function checkedHostName(alias: string, hostName: string, configPath: string | undefined): string {
  const problem = hostAddressProblem(hostName);
  if (problem !== null) {
    throw new FerryError('invalid-input', `SSH config gives host ${alias} the HostName ${JSON.stringify(hostName)}, which ${problem}`, {
      hint: `Fix the HostName line for ${alias} in ${configPath ?? '~/.ssh/config'}.`,
    });
  }
  return hostName;
}

function fromSshG(alias: string, values: Map<string, string[]>, options: ResolveSshConfigOptions): ResolvedSshConfig {
  const home = options.homeDir ?? homedir();
  const localUser = options.localUser ?? userInfo().username;
  const one = (keyword: string): string | undefined => values.get(keyword)?.[0];
  const port = checkedPort(alias, one('port'));
  const hostName = checkedHostName(alias, one('hostname') ?? alias, options.configPath);
  // ssh -G always prints a user, the local one when nothing named another; only another one is a choice.
  const printedUser = one('user');
  const user = options.user ?? (printedUser === undefined || printedUser === localUser ? undefined : printedUser);
  const tokens = { alias, hostName, user: printedUser ?? user, localUser, home, port };
  const printedKeys = values.get('identityfile') ?? [];
  const identityFiles = isOpenSshDefaultIdentityList(printedKeys)
    ? []
    : printedKeys.filter((file) => file.toLowerCase() !== 'none').map((file) => expandHomePath(expandTokens(file, tokens), home));
  const jump = one('proxyjump');
  const expandFiles = (keyword: string): string[] => fileList(values.get(keyword)).map((file) => expandHomePath(expandTokens(file, tokens), home));
  return {
    alias,
    hostName,
    user,
    port,
    identityFiles,
    proxyJump: jump === undefined || jump.toLowerCase() === 'none' ? undefined : jump,
    userKnownHostsFiles: expandFiles('userknownhostsfile'),
    globalKnownHostsFiles: expandFiles('globalknownhostsfile'),
    strictHostKeyChecking: strictHostKeyCheckingOf(one('stricthostkeychecking')),
    resolvedBy: 'ssh -G',
  };
}

async function fromParser(alias: string, options: ResolveSshConfigOptions): Promise<ResolvedSshConfig> {
  const home = options.homeDir ?? homedir();
  const localUser = options.localUser ?? userInfo().username;
  const text = await readConfigText(options.configPath ?? join(home, '.ssh', 'config'));
  const computed = SSHConfig.parse(text).compute(alias, { ignoreCase: true, matchExec: false });

  const configuredPort = first(computed['port']);
  const port = options.port ?? checkedPort(alias, configuredPort);
  const user = options.user ?? first(computed['user']);
  const hostName = checkedHostName(alias, expandTokens(first(computed['hostname']) ?? alias, { alias, hostName: alias, user, localUser, home, port }), options.configPath);
  const tokens = { alias, hostName, user: user ?? localUser, localUser, home, port };
  const expand = (file: string): string => expandHomePath(expandTokens(file, tokens), home);
  const identityFiles = all(computed['identityfile'])
    .filter((file) => file.toLowerCase() !== 'none')
    .map(expand);
  const jump = first(computed['proxyjump']);
  const userKnownHosts = fileList(computed['userknownhostsfile']);
  const globalKnownHosts = fileList(computed['globalknownhostsfile']);

  return {
    alias,
    hostName,
    user,
    port,
    identityFiles,
    proxyJump: jump === undefined || jump.toLowerCase() === 'none' ? undefined : jump,
    userKnownHostsFiles: (userKnownHosts.length > 0 ? userKnownHosts : ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']).map(expand),
    globalKnownHostsFiles: globalKnownHosts.length > 0 ? globalKnownHosts.map(expand) : [...DEFAULT_GLOBAL_KNOWN_HOSTS],
    strictHostKeyChecking: strictHostKeyCheckingOf(first(computed['stricthostkeychecking'])),
    resolvedBy: 'parser',
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
