import { describe, expect, it } from 'vitest';
import { hostAddTargetFromUri, resolveHostUrisInArgs } from '../../../src-main/cli/host-uri.js';
import type { SavedHost } from '../../../src-main/core/host/registry.js';

describe('ferry host add NAME URI (a libvirt host)', () => {
  it('takes user, address and port from qemu+ssh://…/system; a port left out stays unset for ~/.ssh/config', () => {
    expect(hostAddTargetFromUri('qemu+ssh://root@10.0.0.5:2222/system')).toEqual({ transport: 'ssh', user: 'root', address: '10.0.0.5', port: 2222 });
    expect(hostAddTargetFromUri('qemu+ssh://admin@kvm1/system')).toEqual({ transport: 'ssh', user: 'admin', address: 'kvm1' });
    expect(hostAddTargetFromUri('qemu+ssh://[fd00::7]/system')).toEqual({ transport: 'ssh', address: 'fd00::7' });
    expect(hostAddTargetFromUri('qemu:///system')).toEqual({ transport: 'local' });
  });

  it('refuses session URIs and other transports, saying how to write one', () => {
    for (const bad of ['qemu+ssh://root@h/session', 'qemu+tcp://h/system', 'qemu+ssh://h:0/system']) {
      expect(() => hostAddTargetFromUri(bad), bad).toThrow(expect.objectContaining({ code: 'invalid-input', hint: expect.stringContaining('qemu+ssh://[USER@]ADDRESS[:PORT]/system') }));
    }
  });

  it('leaves the URI of `host add` as typed, while other verbs still turn a URI into the saved host\'s name', () => {
    const hosts: SavedHost[] = [{ transport: 'ssh', name: 'kvm1', address: '10.0.0.5', user: 'root', useAgent: true, autoconnect: true, hypervisor: 'libvirt' }];
    expect(resolveHostUrisInArgs(['host', 'add', 'kvm9', 'qemu+ssh://root@10.0.0.9/system'], hosts)).toEqual(['host', 'add', 'kvm9', 'qemu+ssh://root@10.0.0.9/system']);
    expect(resolveHostUrisInArgs(['vm', 'list', 'qemu+ssh://root@10.0.0.5/system'], hosts)).toEqual(['vm', 'list', 'kvm1']);
  });
});
