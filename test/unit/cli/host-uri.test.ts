import { describe, expect, it } from 'vitest';
import type { SavedHost } from '../../../src-main/core/host/registry.js';
import { parseHostUri, resolveHostUri, resolveHostUrisInArgs } from '../../../src-main/cli/host-uri.js';

const ssh = (name: string, address: string, extra: { user?: string; port?: number } = {}): SavedHost => ({ transport: 'ssh', name, address, useAgent: true, autoconnect: true, ...extra });
const hosts: SavedHost[] = [
  ssh('kvm1', '10.0.0.5', { user: 'root' }),
  ssh('kvm1-admin', '10.0.0.5', { user: 'admin', port: 2222 }),
  ssh('kvm2', 'KVM2.example.org'),
  ssh('v6', 'fd00::7', { user: 'root', port: 22 }),
  { transport: 'local', name: 'here', autoconnect: true },
];

describe('host URIs on the command line', () => {
  it('parses user, address and port, with 22 when the port is left out', () => {
    expect(parseHostUri('qemu+ssh://root@10.0.0.5/system')).toEqual({ user: 'root', address: '10.0.0.5', port: 22 });
    expect(parseHostUri('qemu+ssh://[fd00::7]:2200/system')).toEqual({ address: 'fd00::7', port: 2200 });
  });

  it('refuses what is not qemu+ssh://[user@]address[:port]/system, saying how to write it', () => {
    for (const bad of ['qemu+ssh://root@10.0.0.5/session', 'qemu+ssh:///system', 'qemu+ssh://h:99999/system', 'qemu+tcp://h/system']) {
      expect(() => parseHostUri(bad), bad).toThrow(expect.objectContaining({ code: 'invalid-input', hint: expect.stringContaining('qemu+ssh://[USER@]ADDRESS[:PORT]/system') }));
    }
  });

  it('finds the saved host with that address, user and port', () => {
    expect(resolveHostUri('qemu+ssh://root@10.0.0.5/system', hosts)).toBe('kvm1');
    expect(resolveHostUri('qemu+ssh://root@10.0.0.5:22/system', hosts)).toBe('kvm1');
    expect(resolveHostUri('qemu+ssh://admin@10.0.0.5:2222/system', hosts)).toBe('kvm1-admin');
    expect(resolveHostUri('qemu+ssh://kvm2.example.org/system', hosts)).toBe('kvm2');
    expect(resolveHostUri('qemu+ssh://root@[fd00::7]/system', hosts)).toBe('v6');
    expect(resolveHostUri('qemu:///system', hosts)).toBe('here');
  });

  it('a URI without a user takes the one host at that address and port', () => {
    expect(resolveHostUri('qemu+ssh://10.0.0.5/system', hosts)).toBe('kvm1');
  });

  it('an unknown URI says how to add the host', () => {
    expect(() => resolveHostUri('qemu+ssh://admin@10.0.0.5/system', hosts)).toThrow(
      expect.objectContaining({ code: 'not-found', message: 'No saved host is qemu+ssh://admin@10.0.0.5/system', hint: expect.stringContaining('ferry host add NAME --ssh admin@10.0.0.5') }),
    );
    expect(() => resolveHostUri('qemu+ssh://root@10.0.0.9:2200/system', hosts)).toThrow(expect.objectContaining({ hint: expect.stringContaining('--ssh root@10.0.0.9:2200') }));
  });

  it('replaces URIs anywhere in the arguments, and leaves `host add` as typed', () => {
    expect(resolveHostUrisInArgs(['migrate', 'web', '--from', 'qemu+ssh://root@10.0.0.5/system', '--to=qemu+ssh://kvm2.example.org/system'], hosts)).toEqual(['migrate', 'web', '--from', 'kvm1', '--to=kvm2']);
    expect(resolveHostUrisInArgs(['--json', 'vm', 'list', 'qemu+ssh://root@10.0.0.5/system'], hosts)).toEqual(['--json', 'vm', 'list', 'kvm1']);
    const add = ['--json', 'host', 'add', 'new', '--ssh', 'qemu+ssh://root@10.0.0.9/system'];
    expect(resolveHostUrisInArgs(add, hosts)).toEqual(add);
  });
});
