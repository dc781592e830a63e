import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The part of Electron's safeStorage this store needs (injected so it can be tested without Electron). */
export interface Encryptor {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only in Electron: which keyring backs the encryption ('basic_text' = none, a fixed key). */
  getSelectedStorageBackend?(): string;
}

export type SecretSaveResult = { stored: true } | { stored: false; reason: string };

const ASKED_EACH_TIME = 'Ferry will ask for the password or passphrase each time it connects instead.';

export interface HostSecrets {
  password?: string;
  passphrase?: string;
}

/**
 * Passwords and key passphrases the user asked Ferry to remember, encrypted with the OS keychain
 * through safeStorage, one entry per host in $FERRY_HOME/secrets.json. Nothing is written when
 * there is no real keychain behind safeStorage: the secret is then used for this session only.
 */
export class SecretStore {
  readonly file: string;

  constructor(home: string, private readonly encryptor: Encryptor) {
    this.file = join(home, 'secrets.json');
  }

  private async readAll(): Promise<Record<string, string>> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null) return {};
      return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
    } catch {
      return {};
    }
  }

  private async writeAll(all: Record<string, string>): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    // A fresh name with 'wx': an old temp file left with a looser mode is never reused.
    const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, JSON.stringify(all, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    await rename(temp, this.file);
  }

  /** Why secrets cannot be stored safely here, or null when they can. */
  whyNotStorable(): string | null {
    if (!this.encryptor.isEncryptionAvailable()) {
      return `This system offers no encryption for stored secrets. ${ASKED_EACH_TIME}`;
    }
    let backend: string | undefined;
    try {
      backend = this.encryptor.getSelectedStorageBackend?.();
    } catch {
      backend = undefined;
    }
    if (backend === 'basic_text') {
      return `No keyring (GNOME Keyring, KWallet) is running on this desktop, so secrets could only be scrambled with a fixed key that anyone who can read the file could undo. ${ASKED_EACH_TIME} Start a keyring and add the host again to have it remembered.`;
    }
    return null;
  }

  async save(host: string, secrets: HostSecrets): Promise<SecretSaveResult> {
    const refused = this.whyNotStorable();
    if (refused !== null) return { stored: false, reason: refused };
    const clean: HostSecrets = {};
    if (secrets.password) clean.password = secrets.password;
    if (secrets.passphrase) clean.passphrase = secrets.passphrase;
    if (!clean.password && !clean.passphrase) return { stored: false, reason: 'There is no password or passphrase to remember.' };
    const all = await this.readAll();
    all[host] = this.encryptor.encryptString(JSON.stringify(clean)).toString('base64');
    await this.writeAll(all);
    return { stored: true };
  }

  async load(host: string): Promise<HostSecrets | undefined> {
    const entry = (await this.readAll())[host];
    if (entry === undefined || !this.encryptor.isEncryptionAvailable()) return undefined;
    try {
      const parsed = JSON.parse(this.encryptor.decryptString(Buffer.from(entry, 'base64'))) as HostSecrets;
      return parsed;
    } catch {
      return undefined;
    }
  }

  async hosts(): Promise<string[]> {
    return Object.keys(await this.readAll());
  }

  async forget(host: string): Promise<void> {
    const all = await this.readAll();
    if (!(host in all)) return;
    delete all[host];
    await this.writeAll(all);
  }
}
