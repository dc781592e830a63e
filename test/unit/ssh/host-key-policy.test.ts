import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/errors.js';
import { verifyHostKey, type HostKeyPolicy, type UnknownHostKeyInfo } from '../../../src-main/core/ssh/host-key-policy.js';
import { fingerprintSha256 } from '../../../src-main/core/ssh/known-hosts.js';

interface PublicKey {
  type: string;
  blob: Buffer;
}

let dir: string;
let ecdsa: PublicKey;
let ed25519: PublicKey;

function generate(name: string, type: string): PublicKey {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', path]);
  const [keyType, base64] = readFileSync(`${path}.pub`, 'utf8').trim().split(' ');
  return { type: keyType ?? '', blob: Buffer.from(base64 ?? '', 'base64') };
}

/** A policy that says yes to every prompt (accept-new), recording what it was asked. */
function acceptNew(knownHosts: string, asked: UnknownHostKeyInfo[]): HostKeyPolicy {
  return {
    label: 'kvm1',
    host: 'kvm1',
    port: 2222,
    knownHostsFiles: [{ path: knownHosts, writable: true }],
    onUnknownHostKey: async (info) => {
      asked.push(info);
      return true;
    },
  };
}

async function refusal(promise: Promise<unknown>): Promise<FerryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FerryError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-host-key-policy-'));
  ecdsa = generate('ecdsa', 'ecdsa');
  ed25519 = generate('ed25519', 'ed25519');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('verifyHostKey under accept-new', () => {
  it('refuses, without asking, a key of a new type for a host known by another type', async () => {
    const knownHosts = join(dir, 'known-ecdsa');
    const before = `[kvm1]:2222 ${ecdsa.type} ${ecdsa.blob.toString('base64')}\n`;
    writeFileSync(knownHosts, before);
    const asked: UnknownHostKeyInfo[] = [];

    const error = await refusal(verifyHostKey(ed25519.blob, acceptNew(knownHosts, asked)));

    expect(asked).toEqual([]);
    expect(readFileSync(knownHosts, 'utf8')).toBe(before);
    expect(error.code).toBe('host-key-changed');
    expect(error.message).toContain('[kvm1]:2222');
    expect(error.message).toContain('ecdsa-sha2-nistp256');
    expect(error.message).toContain('ssh-ed25519');
    expect(error.message).toContain(fingerprintSha256(ed25519.blob));
    expect(error.hint).toContain(`ssh-keygen -R '[kvm1]:2222' -f '${knownHosts}'`);
    expect(error.details).toMatchObject({ keyType: 'ssh-ed25519', knownKeyTypes: ['ecdsa-sha2-nistp256'], files: [knownHosts] });
  });

  it('still asks about, and records, the first key of a host nothing is known about', async () => {
    const knownHosts = join(dir, 'known-other-host');
    writeFileSync(knownHosts, `kvm2 ${ecdsa.type} ${ecdsa.blob.toString('base64')}\n`);
    const asked: UnknownHostKeyInfo[] = [];

    await verifyHostKey(ed25519.blob, acceptNew(knownHosts, asked));

    expect(asked).toEqual([{ host: 'kvm1', port: 2222, keyType: 'ssh-ed25519', fingerprint: fingerprintSha256(ed25519.blob) }]);
    expect(readFileSync(knownHosts, 'utf8')).toContain(`[kvm1]:2222 ssh-ed25519 ${ed25519.blob.toString('base64')}`);
  });

  it('keeps a revoked key refused, even when the host has a key of another type on record', async () => {
    const knownHosts = join(dir, 'known-revoked');
    const text = `[kvm1]:2222 ${ecdsa.type} ${ecdsa.blob.toString('base64')}\n@revoked * ${ed25519.type} ${ed25519.blob.toString('base64')}\n`;
    writeFileSync(knownHosts, text);
    const asked: UnknownHostKeyInfo[] = [];

    const error = await refusal(verifyHostKey(ed25519.blob, acceptNew(knownHosts, asked)));

    expect(asked).toEqual([]);
    expect(error.details).toMatchObject({ revoked: true });
    expect(readFileSync(knownHosts, 'utf8')).toBe(text);
  });
});
