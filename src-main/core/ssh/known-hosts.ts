import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { appendFile, chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FerryError } from '../errors.js';

/**
 * OpenSSH known_hosts handling. Ferry keeps its own writable file and also trusts the user's
 * ~/.ssh/known_hosts and the system-wide /etc/ssh/ssh_known_hosts read-only, so a host the user
 * already reached with `ssh` needs no prompt.
 *
 * `@cert-authority` lines cannot be honoured: ssh2 offers no *-cert-v01@openssh.com host key
 * algorithm, so a server never presents its certificate, only its plain key, and there is nothing
 * signed to check against the CA. Such a host is reported unknown, naming the CA line.
 */

export interface KnownHostsFile {
  path: string;
  writable: boolean;
}

export interface HostKey {
  host: string;
  port: number;
  keyType: string;
  key: Buffer;
}

export type HostKeyCheck =
  | { status: 'known'; file: string; line: number }
  /** certAuthority: a @cert-authority line covers the host, which Ferry cannot use (see above). */
  | { status: 'unknown'; fingerprint: string; certAuthority?: { file: string; line: number } }
  /** The host is known, but only by keys of other types: a new type is never trusted silently. */
  | { status: 'other-type'; fingerprint: string; knownKeyTypes: string[]; files: string[] }
  | { status: 'changed'; fingerprint: string; knownFingerprints: string[]; file: string; line: number }
  | { status: 'revoked'; fingerprint: string; file: string; line: number };

export interface KnownHostEntry {
  marker: 'revoked' | 'cert-authority' | undefined;
  /** Raw host field: a comma list of patterns, or one hashed `|1|salt|hmac` name. */
  hosts: string;
  keyType: string;
  key: Buffer;
  line: number;
}

/** `SHA256:` + unpadded base64, byte for byte what `ssh-keygen -l` prints. */
export function fingerprintSha256(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type is the first string inside the SSH wire-format public key blob. */
export function keyTypeOfBlob(key: Buffer): string {
  if (key.length < 4) throw new FerryError('invalid-input', 'Host key blob is too short');
  const length = key.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > key.length) {
    throw new FerryError('invalid-input', 'Host key blob has no valid key type');
  }
  return key.subarray(4, 4 + length).toString('latin1');
}

/** The name OpenSSH looks up: the bare host on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === 22 ? lower : `[${lower}]:${port}`;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const trimmed = (lines[index] ?? '').trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/[ \t]+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const name = fields.shift();
      if (name === '@revoked') marker = 'revoked';
      else if (name === '@cert-authority') marker = 'cert-authority';
      // An unknown marker means a format we do not understand; ignoring the line is what ssh does.
      else continue;
    }
    const [hosts, keyType, base64] = fields;
    if (hosts === undefined || keyType === undefined || base64 === undefined) continue;
    if (!/^[A-Za-z0-9+/]+=*$/.test(base64)) continue;
    entries.push({ marker, hosts, keyType, key: Buffer.from(base64, 'base64'), line: index + 1 });
  }
  return entries;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedNameMatches(field: string, name: string): boolean {
  const parts = field.split('|');
  // `|1|salt|hash` splits into ['', '1', salt, hash].
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const expected = Buffer.from(parts[3] ?? '', 'base64');
  const actual = createHmac('sha1', salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Whether an entry's host field covers `name`; a matching `!pattern` vetoes the whole line. */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedNameMatches(field, name);
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern === '') continue;
    if (pattern.startsWith('!')) {
      if (globToRegExp(pattern.slice(1)).test(name)) return false;
    } else if (globToRegExp(pattern).test(name)) {
      matched = true;
    }
  }
  return matched;
}

async function readIfExists(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/** Every line of `files` that speaks about this host, in file order; @cert-authority lines only when asked. */
async function entriesForHost(host: string, port: number, files: readonly KnownHostsFile[], certAuthorities = false): Promise<{ entry: KnownHostEntry; file: string }[]> {
  const name = knownHostsName(host, port);
  const found: { entry: KnownHostEntry; file: string }[] = [];
  for (const file of files) {
    for (const entry of parseKnownHosts(await readIfExists(file.path))) {
      if ((entry.marker === 'cert-authority') !== certAuthorities) continue;
      if (hostFieldMatches(entry.hosts, name)) found.push({ entry, file: file.path });
    }
  }
  return found;
}

/** The key types the host is trusted with, in file order; revoked lines trust nothing. */
export async function knownKeyTypesOf(host: string, port: number, files: readonly KnownHostsFile[]): Promise<string[]> {
  const entries = await entriesForHost(host, port, files);
  return [...new Set(entries.filter(({ entry }) => entry.marker !== 'revoked').map(({ entry }) => entry.keyType))];
}

export async function checkHostKey(presented: HostKey, files: readonly KnownHostsFile[]): Promise<HostKeyCheck> {
  const fingerprint = fingerprintSha256(presented.key);
  const sameType: { entry: KnownHostEntry; file: string }[] = [];
  const otherTypes = new Set<string>();
  const otherTypeFiles = new Set<string>();
  let known: { file: string; line: number } | undefined;

  for (const { entry, file } of await entriesForHost(presented.host, presented.port, files)) {
    const sameKey = entry.key.equals(presented.key);
    // Revocation wins over any other line, in any file: that is its whole point.
    if (entry.marker === 'revoked') {
      if (sameKey) return { status: 'revoked', fingerprint, file, line: entry.line };
      continue;
    }
    if (sameKey && entry.keyType === presented.keyType) known ??= { file, line: entry.line };
    else if (entry.keyType === presented.keyType) sameType.push({ entry, file });
    else {
      otherTypes.add(entry.keyType);
      otherTypeFiles.add(file);
    }
  }

  if (known !== undefined) return { status: 'known', ...known };
  const first = sameType[0];
  if (first !== undefined) {
    return {
      status: 'changed',
      fingerprint,
      knownFingerprints: [...new Set(sameType.map(({ entry }) => fingerprintSha256(entry.key)))],
      file: first.file,
      line: first.entry.line,
    };
  }
  if (otherTypes.size > 0) return { status: 'other-type', fingerprint, knownKeyTypes: [...otherTypes], files: [...otherTypeFiles] };
  const [authority] = await entriesForHost(presented.host, presented.port, files, true);
  return authority === undefined ? { status: 'unknown', fingerprint } : { status: 'unknown', fingerprint, certAuthority: { file: authority.file, line: authority.entry.line } };
}

/** Appends a plain (unhashed) entry, creating the file 0600 and its directory 0700 if needed. */
export async function addKnownHost(path: string, host: string, port: number, keyType: string, key: Buffer): Promise<void> {
  if (/[\s,#]/.test(host) || host === '' || /\s/.test(keyType) || keyType === '') {
    throw new FerryError('invalid-input', `Cannot record a host key for ${JSON.stringify(host)}`);
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const existing = await stat(path);
    if (existing.size > 0 && !(await readFile(path, 'utf8')).endsWith('\n')) prefix = '\n';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await appendFile(path, `${prefix}${knownHostsName(host, port)} ${keyType} ${key.toString('base64')}\n`, { mode: 0o600 });
  // appendFile's mode only applies on creation and is filtered by the umask.
  await chmod(path, 0o600);
}
