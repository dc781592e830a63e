// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PoolSummary, VmDetails } from '../../../src-main/core/api/types.js';
import { DeleteVmDialog } from '../../../src-renderer/src/dialogs/DeleteVmDialog.js';
import { NewVmDialog } from '../../../src-renderer/src/dialogs/NewVmDialog.js';
import { apiError, fakeApi } from './fake-api.js';

afterEach(cleanup);

const GiB = 1024 ** 3;
const pools: PoolSummary[] = [{ name: 'images', type: 'dir', path: '/var/lib/ferry/images', autostart: true, active: true, capacityBytes: 100 * GiB, allocationBytes: 10 * GiB, availableBytes: 90 * GiB }];
const fill = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label, { exact: true }), { target: { value } });
const details = (name: string): VmDetails => ({
  name, host: 'kvm1', state: 'shutoff', memoryMiB: 256, vcpus: 1, defined: true, definition: null, qmpSocket: '/run/ferry/x.qmp', serialLog: '/run/ferry/x.log', vncSocket: '/run/ferry/x.vnc', diskUsage: [],
});

describe('NewVmDialog', () => {
  it('validates name, memory, vCPUs and kernel paths', () => {
    const api = fakeApi({});
    render(<NewVmDialog api={api} host="kvm1" pools={pools} existingNames={['vm1']} onCreated={vi.fn()} onClose={vi.fn()} />);
    fireEvent.click(screen.getByRole('button', { name: 'Create VM' }));
    expect(screen.getByText('VM name is required')).toBeTruthy();
    fill('Name', 'vm1');
    expect(screen.getByText('There is already a VM "vm1" on kvm1')).toBeTruthy();
    fill('Memory (MiB)', '8');
    expect(screen.getByText('Memory must be a whole number of MiB, at least 16')).toBeTruthy();
    fill('vCPUs', '0');
    expect(screen.getByText('vCPUs must be from 1 to 512')).toBeTruthy();
    fireEvent.click(screen.getByRole('checkbox', { name: 'Direct kernel boot' }));
    expect(screen.getByText('Kernel path is required for direct kernel boot')).toBeTruthy();
    fill('Kernel path', 'vmlinuz');
    expect(screen.getByText('Kernel path must be an absolute path (starting with /)')).toBeTruthy();
    fill('Kernel args', 'console=ttyS0; reboot');
    expect(screen.getByText(/Kernel arguments may use/)).toBeTruthy();
    fireEvent.click(screen.getByRole('radio', { name: 'No disk' }));
    fireEvent.click(screen.getByRole('checkbox', { name: 'Direct kernel boot' }));
    expect(screen.getByText('The VM needs a disk, an ISO or a kernel to boot')).toBeTruthy();
    expect(api.calls).toEqual([]);
  });

  it('creates the disk volume, defines the VM with kernel boot and starts it', async () => {
    const api = fakeApi({
      'volumes.create': (input) => ({ name: input.name, pool: input.pool, path: `/var/lib/ferry/images/${input.name}`, format: 'qcow2', virtualSizeBytes: 64 << 20, allocationBytes: 0, backingChain: [] }),
      'vms.define': (input) => details(input.name),
      'vms.start': (input) => ({ ...details(input.name), state: 'running' }),
    });
    const onCreated = vi.fn();
    render(<NewVmDialog api={api} host="kvm1" pools={pools} existingNames={[]} onCreated={onCreated} onClose={vi.fn()} />);
    fill('Name', 'web');
    fill('Memory (MiB)', '256');
    fill('Disk size', '64M');
    fireEvent.click(screen.getByRole('checkbox', { name: 'Direct kernel boot' }));
    fill('Kernel path', '/boot/vmlinuz');
    fill('Initrd path', '/boot/initrd.img');
    fireEvent.click(screen.getByRole('checkbox', { name: 'Start the VM after creating it' }));
    fireEvent.click(screen.getByRole('button', { name: 'Create VM' }));
    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    expect(api.calls.map((c) => c.channel)).toEqual(['volumes.create', 'vms.define', 'vms.start']);
    expect(api.calls[0]?.input).toEqual({ host: 'kvm1', pool: 'images', name: 'web.qcow2', format: 'qcow2', capacity: 64 << 20 });
    expect(api.calls[1]?.input).toEqual({
      host: 'kvm1', name: 'web', memoryMiB: 256, vcpus: 1,
      disks: [{ path: '/var/lib/ferry/images/web.qcow2', format: 'qcow2' }],
      cpuModel: 'Nehalem-v1', accel: 'auto', nics: [{ model: 'virtio-net-pci', network: { type: 'user' } }],
      kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img', append: 'console=ttyS0',
    });
    expect(onCreated.mock.calls[0]?.[1]).toBe(true);
  });

  it('shows the engine error inline and keeps the dialog open', async () => {
    const api = fakeApi({
      'volumes.list': () => [{ name: 'd.raw', pool: 'images', path: '/var/lib/ferry/images/d.raw', format: 'raw', virtualSizeBytes: GiB, allocationBytes: 0, backingChain: [] }],
      'vms.define': () => Promise.reject(apiError({ code: 'invalid-input', message: 'Invalid vms.define request: kernel: must be a normalised path', hint: 'Correct the values named above and try again.' })),
    });
    render(<NewVmDialog api={api} host="kvm1" pools={pools} existingNames={[]} onCreated={vi.fn()} onClose={vi.fn()} />);
    fill('Name', 'web');
    fireEvent.click(screen.getByRole('radio', { name: 'Existing volume' }));
    await waitFor(() => expect((screen.getByLabelText('Volume', { exact: true }) as HTMLSelectElement).value).toBe('/var/lib/ferry/images/d.raw'));
    fireEvent.click(screen.getByRole('button', { name: 'Create VM' }));
    expect(await screen.findByText(/must be a normalised path/)).toBeTruthy();
    expect(screen.getByText('Correct the values named above and try again.')).toBeTruthy();
    expect(api.calls.find((c) => c.channel === 'vms.define')?.input).toMatchObject({ disks: [{ path: '/var/lib/ferry/images/d.raw', format: 'raw' }] });
  });
});

describe('DeleteVmDialog', () => {
  it('undefines the VM, or shows why it could not', async () => {
    const api = fakeApi({ 'vms.undefine': () => Promise.reject(apiError({ code: 'busy', message: 'vm1 is running', hint: 'Shut it down first.' })) });
    render(<DeleteVmDialog api={api} host="kvm1" vm="vm1" running onDeleted={vi.fn()} onClose={vi.fn()} />);
    expect(screen.getByText(/The VM is running/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText('vm1 is running')).toBeTruthy();
    expect(screen.getByText('Shut it down first.')).toBeTruthy();
  });
});
