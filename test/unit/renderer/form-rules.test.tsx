// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HostSummary, ModeAvailability, PoolSummary } from '../../../src-main/core/api/types.js';
import { AddConnectionDialog, connectionUri } from '../../../src-renderer/src/dialogs/AddConnectionDialog.js';
import { AddPoolDialog } from '../../../src-renderer/src/dialogs/AddPoolDialog.js';
import { MigrateDialog } from '../../../src-renderer/src/dialogs/MigrateDialog.js';
import { NewVmDialog } from '../../../src-renderer/src/dialogs/NewVmDialog.js';
import { fakeApi } from './fake-api.js';

// The forms use the engine's own rules (src-main/core/api/path-rules.ts, host-address.ts), so
// the user hears about a refused value before anything is sent.

afterEach(cleanup);

const fill = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label, { exact: true }), { target: { value } });

describe('AddPoolDialog', () => {
  it('refuses a pool in a private or system place, naming the path and why', () => {
    const api = fakeApi({});
    render(<AddPoolDialog api={api} host="kvm1" existingNames={[]} onCreated={vi.fn()} onClose={vi.fn()} />);
    fill('Name', 'keys');
    fill('Target Path', '/root/.ssh');
    fireEvent.click(screen.getByRole('button', { name: 'Create Pool' }));
    expect(screen.getByText(/^\/root\/\.ssh cannot hold a storage pool: it is inside a \.ssh directory, which holds private keys/)).toBeTruthy();
    fill('Target Path', '/etc/');
    expect(screen.getByText(/^\/etc cannot hold a storage pool: it is \/etc, the host's configuration/)).toBeTruthy();
    fill('Target Path', '/srv/vm-images');
    expect(screen.queryByText(/cannot hold a storage pool/)).toBeNull();
    expect(api.calls).toEqual([]);
  });

  it('refuses an NFS source starting with "-"', () => {
    const api = fakeApi({});
    render(<AddPoolDialog api={api} host="kvm1" existingNames={[]} onCreated={vi.fn()} onClose={vi.fn()} />);
    fill('Name', 'nfs');
    fill('Target Path', '/mnt/vms');
    fill('Type', 'netfs');
    fill('Source', '-oremount:/x');
    fireEvent.click(screen.getByRole('button', { name: 'Create Pool' }));
    expect(screen.getByText('Must not start with "-" (mount would read it as an option)')).toBeTruthy();
    expect(api.calls).toEqual([]);
  });
});

describe('NewVmDialog', () => {
  const GiB = 1024 ** 3;
  const pools: PoolSummary[] = [{ name: 'images', type: 'dir', path: '/var/lib/ferry/images', autostart: true, active: true, capacityBytes: 100 * GiB, allocationBytes: 0, availableBytes: 100 * GiB }];

  it('refuses a kernel or initrd from /etc but accepts /boot', () => {
    const api = fakeApi({});
    render(<NewVmDialog api={api} host="kvm1" pools={pools} existingNames={[]} onCreated={vi.fn()} onClose={vi.fn()} />);
    fireEvent.click(screen.getByRole('checkbox', { name: 'Direct kernel boot' }));
    fill('Kernel path', '/etc/shadow');
    fill('Initrd path', '/root/.ssh/id_rsa');
    fireEvent.click(screen.getByRole('button', { name: 'Create VM' }));
    expect(screen.getByText(/^\/etc\/shadow cannot be a kernel or initrd: it is inside \/etc/)).toBeTruthy();
    expect(screen.getByText(/^\/root\/\.ssh\/id_rsa cannot be a kernel or initrd/)).toBeTruthy();
    fill('Kernel path', '/boot/vmlinuz');
    expect(screen.queryByText(/^\/boot\/vmlinuz cannot/)).toBeNull();
    expect(api.calls).toEqual([]);
  });
});

describe('host addresses in forms', () => {
  it('AddConnectionDialog refuses an address that starts with "-"', async () => {
    const api = fakeApi({});
    render(<AddConnectionDialog api={api} existingNames={[]} onAdded={vi.fn()} onClose={vi.fn()} />);
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    fill('Hostname', '-oProxyJump');
    expect(await screen.findByText('Must be a host name or an IP address')).toBeTruthy();
    expect(api.calls).toEqual([]);
  });

  it('connectionUri brackets an IPv6 address', () => {
    expect(connectionUri('ssh', 'root', 'fd00::5', '2222')).toBe('qemu+ssh://root@[fd00::5]:2222/system');
    expect(connectionUri('ssh', 'root', 'fd00::5', '')).toBe('qemu+ssh://root@[fd00::5]/system');
  });

  it('MigrateDialog refuses a migration address that starts with "-"', async () => {
    const host = (name: string, address: string): HostSummary => ({ name, transport: 'ssh', uri: `qemu+ssh://root@${address}/system`, address, autoconnect: true, state: 'connected', hypervisor: 'ferry' });
    const modes: ModeAvailability[] = [{ mode: 'block', possible: true, reason: 'Copies the disks while the VM runs', recommended: true }];
    const api = fakeApi({ 'migrations.modes': () => modes });
    render(<MigrateDialog api={api} vm="vm1" from="a" hosts={[host('a', '10.0.0.1'), host('b', '10.0.0.2')]} poolsByHost={{}} onStarted={vi.fn()} onClose={vi.fn()} />);
    await screen.findByRole('radio', { name: /Live with block copy/ });
    fill('Address', '-oProxyJump');
    fireEvent.click(screen.getByRole('button', { name: 'Check' }));
    expect(screen.getByText('Must be a host name or an IP address')).toBeTruthy();
    expect(api.calls.filter((c) => c.channel === 'migrations.check')).toEqual([]);
  });
});
