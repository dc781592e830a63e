import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelNames } from '../../../src-main/core/api/contract.js';
import { FerryEngine } from '../../../src-main/core/engine.js';
import { CHANNEL_NAMES } from '../../../src-main/electron/channel-names.js';
import { registerIpc, type IpcMainLike, type IpcResult } from '../../../src-main/electron/ipc.js';
import { SecretStore, type Encryptor } from '../../../src-main/electron/secrets.js';
import { isAllowedExternalLink, isOurRendererUrl } from '../../../src-main/electron/security.js';

const rendererIndex = '/opt/Ferry/resources/app/dist/renderer/index.html';
const ours = { senderFrame: { url: 'file:///opt/Ferry/resources/app/dist/renderer/index.html' } };

let home: string;
let engine: FerryEngine;
const handlers = new Map<string, (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => Promise<IpcResult>>();
const fakeIpc: IpcMainLike = {
  handle: (channel, listener) => {
    if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    handlers.set(channel, listener);
  },
  removeHandler: (channel) => handlers.delete(channel),
};
// Reversible stand-in for safeStorage: the file must never hold the plain text.
const encryptor: Encryptor = {
  isEncryptionAvailable: () => true,
  encryptString: (plain) => Buffer.from(Buffer.from(plain, 'utf8').map((b) => b ^ 0x5a)),
  decryptString: (data) => Buffer.from(data.map((b) => b ^ 0x5a)).toString('utf8'),
};

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'ferry-electron-'));
  engine = new FerryEngine({ home, userKnownHosts: null });
  registerIpc(fakeIpc, { engine, isTrustedSender: (url) => isOurRendererUrl(url, rendererIndex), secrets: new SecretStore(home, encryptor) });
});

afterAll(async () => {
  await engine.close();
  rmSync(home, { recursive: true, force: true });
});

describe('IPC registration', () => {
  it('registers exactly one handler per contract channel, and the preload list matches', () => {
    expect([...handlers.keys()].sort()).toEqual([...channelNames].sort());
    expect([...CHANNEL_NAMES].sort()).toEqual([...channelNames].sort());
  });

  it('runs calls from our renderer and serialises results', async () => {
    expect(await handlers.get('hosts.list')?.(ours, {})).toEqual({ ok: true, value: [] });
  });

  it('validates input through the engine and serialises FerryErrors', async () => {
    const result = await handlers.get('hosts.add')?.(ours, { transport: 'ssh', name: '../x', address: 'h' });
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
  });

  it('refuses messages from any other frame', async () => {
    for (const url of ['https://evil.example/', 'file:///tmp/evil.html', 'devtools://devtools/x', '']) {
      const result = await handlers.get('hosts.list')?.({ senderFrame: { url } }, {});
      expect(result).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    }
    expect(await handlers.get('hosts.list')?.({ senderFrame: null }, {})).toMatchObject({ ok: false });
  });
});

describe('security helpers', () => {
  it('allows only listed https links', () => {
    expect(isAllowedExternalLink('https://www.qemu.org/docs/master/')).toBe(true);
    expect(isAllowedExternalLink('http://www.qemu.org/')).toBe(false);
    expect(isAllowedExternalLink('https://www.qemu.org.evil.example/')).toBe(false);
    expect(isAllowedExternalLink('https://user@github.com/')).toBe(false);
    expect(isAllowedExternalLink('file:///etc/passwd')).toBe(false);
    expect(isAllowedExternalLink('javascript:alert(1)')).toBe(false);
  });
});

describe('SecretStore', () => {
  it('stores secrets encrypted under FERRY_HOME and forgets them', async () => {
    const store = new SecretStore(home, encryptor);
    expect(await store.save('kvm1', { password: 'hunter2' })).toEqual({ stored: true });
    expect(readFileSync(store.file, 'utf8')).not.toContain('hunter2');
    expect(await store.load('kvm1')).toEqual({ password: 'hunter2' });
    await store.forget('kvm1');
    expect(await store.load('kvm1')).toBeUndefined();
  });

  it('writes nothing when the OS offers no encryption', async () => {
    const store = new SecretStore(join(home, 'plain'), { ...encryptor, isEncryptionAvailable: () => false });
    expect(await store.save('kvm1', { password: 'hunter2' })).toMatchObject({ stored: false });
    expect(await store.hosts()).toEqual([]);
  });
});
