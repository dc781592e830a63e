import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostKeyAlgorithmsFor } from '../../../src-main/core/ssh/host-key-algorithms.js';
import { knownKeyTypesOf, type KnownHostsFile } from '../../../src-main/core/ssh/known-hosts.js';

let dir: string;

/** A syntactically valid wire blob: the key type string is all the algorithm choice reads. */
function line(hosts: string, keyType: string, marker = ''): string {
  const type = Buffer.from(keyType, 'latin1');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(type.length);
  const blob = Buffer.concat([length, type, Buffer.from(`${hosts}${keyType}${marker}`)]);
  return `${marker === '' ? '' : `${marker} `}${hosts} ${keyType} ${blob.toString('base64')}`;
}

function knownHosts(name: string, lines: string[]): KnownHostsFile {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { path, writable: false };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-host-key-algorithms-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hostKeyAlgorithmsFor', () => {
  it('offers only the algorithms of the known key types, in OpenSSH preference order', () => {
    expect(hostKeyAlgorithmsFor(['ecdsa-sha2-nistp256'])).toEqual(['ecdsa-sha2-nistp256']);
    expect(hostKeyAlgorithmsFor(['ssh-rsa', 'ecdsa-sha2-nistp521', 'ssh-ed25519'])).toEqual(['ssh-ed25519', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithmsFor(['ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp256'])).toEqual(['ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384']);
  });

  it('lets an RSA key sign with SHA-2 before legacy SHA-1', () => {
    expect(hostKeyAlgorithmsFor(['ssh-rsa'])).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  });

  it('restricts nothing for a host with no key, or only keys ssh2 cannot verify', () => {
    expect(hostKeyAlgorithmsFor([])).toBeUndefined();
    expect(hostKeyAlgorithmsFor(['sk-ssh-ed25519@openssh.com'])).toBeUndefined();
  });

  it('only names algorithms ssh2 accepts in a connect config', async () => {
    const every = hostKeyAlgorithmsFor(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa', 'ssh-dss']) ?? [];
    expect(every).toHaveLength(8);
    // ssh2 throws "Unsupported algorithm" synchronously from connect() for a name it does not know.
    const client = new ssh2.Client();
    const failed = new Promise<Error>((resolve) => client.once('error', resolve));
    expect(() => client.connect({ host: '127.0.0.1', port: 1, username: 'probe', algorithms: { serverHostKey: every } })).not.toThrow();
    // Port 1 refuses; only the connect attempt itself mattered.
    expect((await failed).message).not.toMatch(/Unsupported algorithm/);
    client.destroy();
  });
});

describe('the algorithm list derived from known_hosts', () => {
  it('comes from the non-revoked lines for this host and port, across files', async () => {
    const ferry = knownHosts('ferry', [line('kvm1', 'ecdsa-sha2-nistp256'), line('[kvm1]:2222', 'ssh-ed25519'), line('kvm2', 'ssh-ed25519')]);
    const user = knownHosts('user', [line('kvm1,10.0.0.1', 'ssh-rsa'), line('kvm1', 'ssh-ed25519', '@revoked'), line('*', 'ssh-ed25519', '@cert-authority')]);
    const types = await knownKeyTypesOf('kvm1', 22, [ferry, user]);
    expect(types).toEqual(['ecdsa-sha2-nistp256', 'ssh-rsa']);
    expect(hostKeyAlgorithmsFor(types)).toEqual(['ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithmsFor(await knownKeyTypesOf('kvm1', 2222, [ferry, user]))).toEqual(['ssh-ed25519']);
  });

  it('is left open for a host with no line, or only a revoked one', async () => {
    const files = [knownHosts('revoked-only', [line('kvm3', 'ssh-ed25519', '@revoked'), line('kvm1', 'ssh-ed25519')]), { path: join(dir, 'missing'), writable: true }];
    await expect(knownKeyTypesOf('kvm3', 22, files)).resolves.toEqual([]);
    await expect(knownKeyTypesOf('new-host', 22, files)).resolves.toEqual([]);
    expect(hostKeyAlgorithmsFor(await knownKeyTypesOf('kvm3', 22, files))).toBeUndefined();
  });
});
