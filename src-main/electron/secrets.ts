import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The part of Electron's safeStorage this store needs (injected so it can be tested without Electron). */
export interface Encryptor {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export interface HostSecrets {
  password?: string;
  passphrase?: string;
}

/**
 * Passwords and key passphrases the user asked Ferry to remember, encrypted with the OS keychain
 * through safeStorage, one entry per host in $FERRY_HOME/secrets.json. Nothing is written when
 * encryption is unavailable: the secret is then used for this session only.
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
    await mkdir(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
    await rename(temp, this.file);
  }

  async save(host: string, secrets: HostSecrets): Promise<boolean> {
    if (!this.encryptor.isEncryptionAvailable()) return false;
    const clean: HostSecrets = {};
    if (secrets.password) clean.password = secrets.password;
    if (secrets.passphrase) clean.passphrase = secrets.passphrase;
    if (!clean.password && !clean.passphrase) return false;
    const all = await this.readAll();
    all[host] = this.encryptor.encryptString(JSON.stringify(clean)).toString('base64');
    await this.writeAll(all);
    return true;
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
