import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addKnownHost,
  checkHostKey,
  fingerprintSha256,
  hostFieldMatches,
  keyTypeOfBlob,
  parseKnownHosts,
} from '../../../src-main/core/ssh/known-hosts.js';

interface TestKey {
  /** The `.pub` line: "type base64 comment". */
  line: string;
  type: string;
  blob: Buffer;
  pubPath: string;
}

let dir: string;
const keys: Record<'ed1' | 'ed2' | 'rsa' | 'ecdsa', TestKey> = {} as Record<'ed1' | 'ed2' | 'rsa' | 'ecdsa', TestKey>;

function generate(name: string, type: string): TestKey {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', path]);
  const line = readFileSync(`${path}.pub`, 'utf8').trim();
  const [keyType, base64] = line.split(' ');
  return { line, type: keyType ?? '', blob: Buffer.from(base64 ?? '', 'base64'), pubPath: `${path}.pub` };
}

function entry(hosts: string, key: TestKey): string {
  return `${hosts} ${key.type} ${key.blob.toString('base64')}`;
}

function file(name: string, text: string): { path: string; writable: boolean } {
  const path = join(dir, name);
  writeFileSync(path, text);
  return { path, writable: false };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-known-hosts-'));
  keys.ed1 = generate('ed1', 'ed25519');
  keys.ed2 = generate('ed2', 'ed25519');
  keys.rsa = generate('rsa', 'rsa');
  keys.ecdsa = generate('ecdsa', 'ecdsa');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fingerprintSha256', () => {
  it.each(['ed1', 'rsa', 'ecdsa'] as const)('matches ssh-keygen -lf for %s', (name) => {
    const key = keys[name];
    const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', key.pubPath], { encoding: 'utf8' }).split(' ')[1];
    expect(fingerprintSha256(key.blob)).toBe(printed);
  });

  it('reads the key type from the blob', () => {
    expect(keyTypeOfBlob(keys.ed1.blob)).toBe('ssh-ed25519');
    expect(keyTypeOfBlob(keys.rsa.blob)).toBe('ssh-rsa');
    expect(keyTypeOfBlob(keys.ecdsa.blob)).toBe('ecdsa-sha2-nistp256');
  });
});

describe('parseKnownHosts', () => {
  it('skips comments, blank lines, junk and unknown markers', () => {
    const parsed = parseKnownHosts(['# comment', '', '   ', entry('a', keys.ed1), 'garbage', '@weird b ssh-ed25519 AAAA', `@cert-authority *.x ${keys.rsa.type} ${keys.rsa.blob.toString('base64')}`].join('\n'));
    expect(parsed.map((e) => [e.hosts, e.marker, e.line])).toEqual([
      ['a', undefined, 4],
      ['*.x', 'cert-authority', 7],
    ]);
  });
});

describe('hostFieldMatches', () => {
  it('handles lists, wildcards and negation', () => {
    expect(hostFieldMatches('a,b,c', 'b')).toBe(true);
    expect(hostFieldMatches('*.lab', 'kvm1.lab')).toBe(true);
    expect(hostFieldMatches('*.lab,!kvm2.lab', 'kvm2.lab')).toBe(false);
    expect(hostFieldMatches('kvm?.lab', 'kvm7.lab')).toBe(true);
    expect(hostFieldMatches('kvm?.lab', 'kvm10.lab')).toBe(false);
    expect(hostFieldMatches('[kvm1]:2222', '[kvm1]:2222')).toBe(true);
    expect(hostFieldMatches('KVM1', 'kvm1')).toBe(true);
  });
});

describe('checkHostKey', () => {
  it('finds a plain entry and a comma-listed one', async () => {
    const files = [file('plain', `${entry('other', keys.rsa)}\n${entry('x,kvm1,y', keys.ed1)}\n`)];
    await expect(checkHostKey({ host: 'kvm1', port: 22, keyType: keys.ed1.type, key: keys.ed1.blob }, files)).resolves.toMatchObject({ status: 'known', line: 2 });
  });

  it('matches hashed entries written by ssh-keygen -H, including [host]:port', async () => {
    const path = join(dir, 'hashed');
    writeFileSync(path, `${entry('kvm1', keys.ed1)}\n${entry('[kvm2]:2222', keys.ed2)}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', path], { stdio: 'ignore' });
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('kvm1');
    expect(text).toContain('|1|');
    const files = [{ path, writable: false }];
    await expect(checkHostKey({ host: 'kvm1', port: 22, keyType: keys.ed1.type, key: keys.ed1.blob }, files)).resolves.toMatchObject({ status: 'known' });
    await expect(checkHostKey({ host: 'kvm2', port: 2222, keyType: keys.ed2.type, key: keys.ed2.blob }, files)).resolves.toMatchObject({ status: 'known' });
    // The port is part of the hashed name, so the same host on port 22 is someone else.
    await expect(checkHostKey({ host: 'kvm2', port: 22, keyType: keys.ed2.type, key: keys.ed2.blob }, files)).resolves.toMatchObject({ status: 'unknown' });
    await expect(checkHostKey({ host: 'kvm1', port: 22, keyType: keys.ed2.type, key: keys.ed2.blob }, files)).resolves.toMatchObject({ status: 'changed' });
  });

  it('keeps [host]:port apart from host', async () => {
    const files = [file('ports', `${entry('[kvm1]:2222', keys.ed1)}\n`)];
    await expect(checkHostKey({ host: 'kvm1', port: 2222, keyType: keys.ed1.type, key: keys.ed1.blob }, files)).resolves.toMatchObject({ status: 'known' });
    await expect(checkHostKey({ host: 'kvm1', port: 22, keyType: keys.ed1.type, key: keys.ed1.blob }, files)).resolves.toEqual({ status: 'unknown', fingerprint: fingerprintSha256(keys.ed1.blob) });
  });

  it('reports an unknown host with its fingerprint', async () => {
    const files = [file('empty', ''), { path: join(dir, 'missing'), writable: true }];
    await expect(checkHostKey({ host: 'new', port: 22, keyType: keys.ed1.type, key: keys.ed1.blob }, files)).resolves.toEqual({
      status: 'unknown',
      fingerprint: fingerprintSha256(keys.ed1.blob),
    });
  });

  it('reports a changed key of the same type with both fingerprints and the location', async () => {
    const f = file('changed', `# header\n${entry('kvm1', keys.ed1)}\n`);
    await expect(checkHostKey({ host: 'kvm1', port: 22, keyType: keys.ed2.type, key: keys.ed2.blob }, [f])).resolves.toEqual({
      status: 'changed',
      fingerprint: fingerprintSha256(keys.ed2.blob),
      knownFingerprints: [fingerprintSha256(keys.ed1.blob)],
      file: f.path,
      line: 2,
    });
  });

  it('tells a key of a new type for a known host apart from an unknown host, naming the known types and files', async () => {
    const user = file('othertype-user', `${entry('kvm1', keys.rsa)}\n`);
    const ferry = file('othertype-ferry', `${entry('kvm1', keys.ecdsa)}\n${entry('kvm2', keys.ed1)}\n`);
    await expect(checkHostKey({ host: 'kvm1', port: 22, keyType: keys.ed1.type, key: keys.ed1.blob }, [ferry, user])).resolves.toEqual({
      status: 'other-type',
      fingerprint: fingerprintSha256(keys.ed1.blob),
      knownKeyTypes: ['ecdsa-sha2-nistp256', 'ssh-rsa'],
      files: [ferry.path, user.path],
    });
  });

  it('accepts when any matching line has the key, even if another line is stale', async () => {
    const user = file('user', `${entry('kvm1', keys.ed2)}\n`);
    const ferry = file('ferry', `${entry('kvm1', keys.ed1)}\n`);
    await expect(checkHostKey({ host: 'kvm1', port: 22, keyType: keys.ed1.type, key: keys.ed1.blob }, [user, ferry])).resolves.toMatchObject({ status: 'known', file: ferry.path });
  });

  it('refuses a @revoked key even when another line lists it', async () => {
    const f = file('revoked', `${entry('kvm1', keys.ed1)}\n@revoked * ${keys.ed1.type} ${keys.ed1.blob.toString('base64')}\n`);
    await expect(checkHostKey({ host: 'kvm1', port: 22, keyType: keys.ed1.type, key: keys.ed1.blob }, [f])).resolves.toMatchObject({ status: 'revoked', line: 2 });
  });

  it('honours wildcards and negation', async () => {
    const f = file('wild', `${entry('*.lab,!evil.lab', keys.ed1)}\n`);
    await expect(checkHostKey({ host: 'kvm1.lab', port: 22, keyType: keys.ed1.type, key: keys.ed1.blob }, [f])).resolves.toMatchObject({ status: 'known' });
    await expect(checkHostKey({ host: 'evil.lab', port: 22, keyType: keys.ed1.type, key: keys.ed1.blob }, [f])).resolves.toMatchObject({ status: 'unknown' });
  });

  it('never trusts a key through a @cert-authority line (ssh2 gets no host certificate), but names the line', async () => {
    const f = file('ca', `# site CA\n@cert-authority kvm1,*.lab ${keys.ed1.type} ${keys.ed1.blob.toString('base64')}\n`);
    await expect(checkHostKey({ host: 'kvm1', port: 22, keyType: keys.ed1.type, key: keys.ed1.blob }, [f])).resolves.toEqual({
      status: 'unknown',
      fingerprint: fingerprintSha256(keys.ed1.blob),
      certAuthority: { file: f.path, line: 2 },
    });
    await expect(checkHostKey({ host: 'other', port: 22, keyType: keys.ed1.type, key: keys.ed1.blob }, [f])).resolves.toEqual({ status: 'unknown', fingerprint: fingerprintSha256(keys.ed1.blob) });
  });

  it('refuses a key @revoked in a read-only system-wide file even though Ferry’s own file trusts it', async () => {
    const ferry = { ...file('ferry-own', `${entry('kvm1', keys.ed1)}\n`), writable: true };
    const global = file('ssh_known_hosts', `@revoked * ${keys.ed1.type} ${keys.ed1.blob.toString('base64')}\n`);
    await expect(checkHostKey({ host: 'kvm1', port: 22, keyType: keys.ed1.type, key: keys.ed1.blob }, [ferry, global])).resolves.toMatchObject({ status: 'revoked', file: global.path, line: 1 });
  });
});

describe('addKnownHost', () => {
  it('creates the file 0600 in a new 0700 directory and writes lines ssh-keygen can find', async () => {
    const path = join(dir, 'ferry-home', 'sub', 'known_hosts');
    await addKnownHost(path, 'kvm1', 22, keys.ed1.type, keys.ed1.blob);
    await addKnownHost(path, 'KVM2', 2222, keys.ed2.type, keys.ed2.blob);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ferry-home', 'sub')).mode & 0o777).toBe(0o700);
    expect(readFileSync(path, 'utf8')).toBe(`${entry('kvm1', keys.ed1)}\n${entry('[kvm2]:2222', keys.ed2)}\n`);
    expect(execFileSync('ssh-keygen', ['-F', '[kvm2]:2222', '-f', path], { encoding: 'utf8' })).toContain(keys.ed2.blob.toString('base64'));
    const files = [{ path, writable: true }];
    await expect(checkHostKey({ host: 'kvm2', port: 2222, keyType: keys.ed2.type, key: keys.ed2.blob }, files)).resolves.toMatchObject({ status: 'known' });
  });

  it('starts a new line when the file lacks a trailing newline', async () => {
    const path = join(dir, 'no-newline');
    writeFileSync(path, entry('a', keys.rsa));
    await addKnownHost(path, 'b', 22, keys.ed1.type, keys.ed1.blob);
    expect(parseKnownHosts(readFileSync(path, 'utf8')).map((e) => e.hosts)).toEqual(['a', 'b']);
  });

  it('refuses host names that would corrupt the file', async () => {
    await expect(addKnownHost(join(dir, 'bad'), 'a b', 22, keys.ed1.type, keys.ed1.blob)).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(addKnownHost(join(dir, 'bad'), 'a\nb', 22, keys.ed1.type, keys.ed1.blob)).rejects.toMatchObject({ code: 'invalid-input' });
  });
});
