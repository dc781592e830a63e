import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostRegistry, hostUri, type SavedHost } from '../../../src-main/core/host/registry.js';
import { rejection } from '../../support/rejection.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'ferry-registry-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});


const sshHost: SavedHost = { transport: 'ssh', name: 'kvm1', address: '192.0.2.10', port: 2222, user: 'admin', identityFile: '/home/u/.ssh/id', useAgent: false, autoconnect: true };
const localHost: SavedHost = { transport: 'local', name: 'here', autoconnect: false };

describe('HostRegistry', () => {
  it('starts empty when hosts.json does not exist', async () => {
    expect(await new HostRegistry(join(home, 'sub', 'hosts.json')).list()).toEqual([]);
  });

  it('round-trips hosts through hosts.json (mode 0600), across instances', async () => {
    const file = join(home, 'sub', 'hosts.json');
    const registry = new HostRegistry(file);
    await registry.add(sshHost);
    await registry.add(localHost);
    expect(await new HostRegistry(file).list()).toEqual([sshHost, localHost]);
    expect(await new HostRegistry(file).get('kvm1')).toEqual(sshHost);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(file, 'utf8')) as { version: number; hosts: unknown[] };
    expect(saved.version).toBe(1);
    expect(saved.hosts).toHaveLength(2);
    await registry.remove('kvm1');
    expect(await new HostRegistry(file).list()).toEqual([localHost]);
  });

  it('keeps every host when several are added and removed at once', async () => {
    const file = join(home, 'hosts.json');
    const registry = new HostRegistry(file);
    const names = Array.from({ length: 12 }, (_, index) => `kvm${index}`);
    await Promise.all(names.map((name) => registry.add({ ...sshHost, name })));
    expect((await registry.list()).map((host) => host.name).sort()).toEqual([...names].sort());
    // A clash inside a burst fails alone and does not cost the others their place.
    const results = await Promise.allSettled([registry.add({ ...localHost, name: 'kvm3' }), registry.remove('kvm0'), registry.remove('kvm1'), registry.add(localHost)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((await new HostRegistry(file).list()).map((host) => host.name).sort()).toEqual([...names.slice(2), 'here'].sort());
    expect((await readdir(home)).filter((entry) => entry.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a second host of the same name', async () => {
    const registry = new HostRegistry(join(home, 'hosts.json'));
    await registry.add(sshHost);
    const error = await rejection(registry.add({ ...localHost, name: 'kvm1' }));
    expect(error.code).toBe('already-exists');
    expect(error.message).toContain('kvm1');
    expect((await rejection(registry.assertFree('kvm1'))).code).toBe('already-exists');
    expect(await registry.list()).toEqual([sshHost]);
  });

  it('says not-found for an unknown host, on get and on remove', async () => {
    const registry = new HostRegistry(join(home, 'hosts.json'));
    await registry.add(sshHost);
    const error = await rejection(registry.get('nope'));
    expect(error.code).toBe('not-found');
    expect(error.hint).toMatch(/ferry host add/);
    expect((await rejection(registry.remove('nope'))).code).toBe('not-found');
    expect(await registry.list()).toEqual([sshHost]);
  });

  it('fills defaults of older files and refuses a damaged one', async () => {
    const file = join(home, 'hosts.json');
    await writeFile(file, JSON.stringify({ version: 1, hosts: [{ transport: 'ssh', name: 'old', address: 'h' }] }));
    expect(await new HostRegistry(file).list()).toEqual([{ transport: 'ssh', name: 'old', address: 'h', useAgent: true, autoconnect: true }]);
    await writeFile(file, JSON.stringify({ version: 1, hosts: [{ transport: 'ssh', name: 'a;reboot', address: 'h' }] }));
    const error = await rejection(new HostRegistry(file).list());
    expect(error.code).toBe('internal');
    expect(error.message).toContain(file);
  });

  it('builds virt-manager style URIs', () => {
    expect(hostUri(sshHost)).toBe('qemu+ssh://admin@192.0.2.10:2222/system');
    expect(hostUri({ transport: 'ssh', name: 'x', address: 'h', port: 22, useAgent: true, autoconnect: true })).toBe('qemu+ssh://h/system');
    expect(hostUri(localHost)).toBe('qemu:///system');
  });
});
