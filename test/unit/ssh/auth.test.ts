import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/errors.js';
import { authMethods, chooseIdentity } from '../../../src-main/core/ssh/auth.js';

let dir: string;
let plainKey: string;
let encryptedKey: string;
const PASSPHRASE = 'open sesame';

function generate(name: string, passphrase: string): string {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', path]);
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-auth-'));
  plainKey = generate('id_plain', '');
  encryptedKey = generate('id_encrypted', PASSPHRASE);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('chooseIdentity', () => {
  it('skips a passphrase-protected default key given no passphrase, leaving the agent to authenticate', async () => {
    const auth = { agent: '/run/agent.sock', identityFile: encryptedKey, identityFileIsDefault: true };
    const choice = await chooseIdentity(auth);
    expect(choice.identity).toBeUndefined();
    expect(choice.skipped?.message).toContain(`${encryptedKey} is protected by a passphrase`);
    expect(authMethods('root', auth, choice.identities).map((method) => method.type)).toEqual(['agent']);
  });

  it('fails for a passphrase-protected key the user named, asking for the passphrase', async () => {
    const error = await chooseIdentity({ identityFile: encryptedKey }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('auth-failed');
    expect((error as FerryError).message).toMatch(/protected by a passphrase/);
    expect((error as FerryError).hint).toMatch(/passphrase/);
  });

  it('uses a default key whose passphrase was given, and a plain default key', async () => {
    expect((await chooseIdentity({ identityFile: encryptedKey, identityFileIsDefault: true, passphrase: PASSPHRASE })).identity?.type).toBe('ssh-ed25519');
    expect((await chooseIdentity({ identityFile: plainKey, identityFileIsDefault: true })).identity?.type).toBe('ssh-ed25519');
  });

  it('never skips a wrong passphrase, nor an unreadable file when nothing else could authenticate', async () => {
    await expect(chooseIdentity({ identityFile: encryptedKey, identityFileIsDefault: true, passphrase: 'wrong' })).rejects.toThrow(/wrong passphrase/);
    await expect(chooseIdentity({ identityFile: join(dir, 'missing'), identityFileIsDefault: true })).rejects.toThrow(/Cannot read identity file/);
  });

  it('offers nothing when no identity file is configured', async () => {
    await expect(chooseIdentity({})).resolves.toEqual({ identity: undefined, identities: [], skipped: undefined });
  });
});
