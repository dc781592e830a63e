import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretStore, type Encryptor } from '../../../src-main/electron/secrets.js';

/** Stands in for Electron's safeStorage (the layer below): reversible, never the plain text. */
function fakeSafeStorage(backend: string | undefined): Encryptor {
  const encryptor: Encryptor = {
    isEncryptionAvailable: () => true,
    encryptString: (plain) => Buffer.from(Buffer.from(plain, 'utf8').map((byte) => byte ^ 0x5a)),
    decryptString: (data) => Buffer.from(data.map((byte) => byte ^ 0x5a)).toString('utf8'),
  };
  if (backend !== undefined) encryptor.getSelectedStorageBackend = () => backend;
  return encryptor;
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ferry-secrets-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('SecretStore and the safeStorage backend', () => {
  it('refuses to store with the basic_text backend (a fixed key), says why, and writes nothing', async () => {
    const home = join(root, 'basic');
    const store = new SecretStore(home, fakeSafeStorage('basic_text'));
    const result = await store.save('kvm1', { password: 'hunter2' });
    expect(result.stored).toBe(false);
    const reason = result.stored ? '' : result.reason;
    expect(reason).toContain('fixed key');
    expect(reason).toContain('ask for the password or passphrase each time');
    expect(store.whyNotStorable()).toBe(reason);
    expect(await store.hosts()).toEqual([]);
    expect(() => statSync(store.file)).toThrow();
  });

  it('stores with a real keyring backend', async () => {
    const store = new SecretStore(join(root, 'keyring'), fakeSafeStorage('gnome_libsecret'));
    expect(await store.save('kvm1', { password: 'hunter2' })).toEqual({ stored: true });
    expect(await store.load('kvm1')).toEqual({ password: 'hunter2' });
    expect(store.whyNotStorable()).toBeNull();
  });

  it('stores where safeStorage names no backend (macOS, Windows)', async () => {
    const store = new SecretStore(join(root, 'other-os'), fakeSafeStorage(undefined));
    expect(await store.save('kvm1', { passphrase: 'p' })).toEqual({ stored: true });
  });

  it('says why when the OS offers no encryption at all', async () => {
    const store = new SecretStore(join(root, 'none'), { ...fakeSafeStorage('gnome_libsecret'), isEncryptionAvailable: () => false });
    const result = await store.save('kvm1', { password: 'hunter2' });
    expect(result).toMatchObject({ stored: false, reason: expect.stringContaining('each time it connects') });
  });

  it('creates its directory 0700 and the file 0600', async () => {
    const home = join(root, 'fresh', 'ferry');
    const store = new SecretStore(home, fakeSafeStorage('kwallet5'));
    const previous = process.umask(0o022);
    try {
      await store.save('kvm1', { password: 'hunter2' });
    } finally {
      process.umask(previous);
    }
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
  });
});
