import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedKey } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authMethods, chooseIdentity, type IdentityFile } from '../../../src-main/core/ssh/auth.js';

let dir: string;
let first: string;
let second: string;
let locked: string;

function generate(name: string, passphrase = ''): string {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', path]);
  return path;
}

function publicBlob(path: string): string {
  return readFileSync(`${path}.pub`, 'utf8').split(' ')[1] ?? '';
}

function blobOf(key: unknown): string {
  return (key as ParsedKey).getPublicSSH().toString('base64');
}

const configured = (path: string): IdentityFile => ({ path, defaultName: false, required: false });
const defaultName = (path: string): IdentityFile => ({ path, defaultName: true, required: false });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-identities-'));
  first = generate('id_first');
  second = generate('id_second');
  locked = generate('id_locked', 'secret words');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('every IdentityFile, in order', () => {
  it('offers each key as its own publickey attempt, after the agent, in the configured order', async () => {
    const auth = { agent: '/run/agent.sock', identityFiles: [configured(first), configured(second)] };
    const choice = await chooseIdentity(auth);
    expect(choice.identities.map(blobOf)).toEqual([publicBlob(first), publicBlob(second)]);
    const methods = authMethods('root', auth, choice.identities);
    expect(methods.map((method) => method.type)).toEqual(['agent', 'publickey', 'publickey']);
    expect(methods.slice(1).map((method) => blobOf((method as { key: unknown }).key))).toEqual([publicBlob(first), publicBlob(second)]);
  });

  it('skips a missing default-named key without a word', async () => {
    const choice = await chooseIdentity({ identityFiles: [defaultName(join(dir, 'id_rsa')), configured(second)] });
    expect(choice.identities.map(blobOf)).toEqual([publicBlob(second)]);
    expect(choice.skipped).toBeUndefined();
  });

  it('goes on past a missing configured key but reports it, so a failed login names it', async () => {
    const missing = join(dir, 'id_gone');
    const choice = await chooseIdentity({ identityFiles: [configured(missing), configured(first)] });
    expect(choice.identities.map(blobOf)).toEqual([publicBlob(first)]);
    expect(choice.skipped?.message).toContain(missing);
  });

  it('throws for a missing configured key when nothing else could authenticate', async () => {
    await expect(chooseIdentity({ identityFiles: [configured(join(dir, 'id_gone'))] })).rejects.toThrow(/Cannot read identity file .*id_gone/);
  });

  it('names every key it left out when several were', async () => {
    const missing = join(dir, 'id_gone');
    const choice = await chooseIdentity({ agent: '/run/agent.sock', identityFiles: [configured(locked), configured(missing)] });
    expect(choice.identities).toEqual([]);
    expect(choice.skipped?.message).toMatch(/2 identity files were left out/);
    expect(choice.skipped?.message).toContain(locked);
    expect(choice.skipped?.message).toContain(missing);
  });

  it('still fails at once for a key the user named for this host that needs a passphrase', async () => {
    await expect(chooseIdentity({ agent: '/run/agent.sock', identityFiles: [{ path: locked, defaultName: false, required: true }] })).rejects.toThrow(/protected by a passphrase/);
  });
});
