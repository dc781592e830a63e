import { describe, expect, it } from 'vitest';
import { hostUri } from '../../../src-main/core/host/registry.js';

describe('hostUri', () => {
  it('brackets an IPv6 address so its colons are not read as the port', () => {
    expect(hostUri({ transport: 'ssh', name: 'v6', address: 'fd00::5', user: 'root', port: 2222, useAgent: true, autoconnect: true })).toBe('qemu+ssh://root@[fd00::5]:2222/system');
    expect(hostUri({ transport: 'ssh', name: 'v6', address: '::1', useAgent: true, autoconnect: true })).toBe('qemu+ssh://[::1]/system');
  });

  it('leaves host names and IPv4 addresses bare', () => {
    expect(hostUri({ transport: 'ssh', name: 'a', address: '192.0.2.10', useAgent: true, autoconnect: true })).toBe('qemu+ssh://192.0.2.10/system');
  });
});
