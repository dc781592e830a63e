// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PoolSummary, VmDetails, VolumeInfo } from '../../../src-main/core/api/types.js';
import { AddPoolDialog } from '../../../src-renderer/src/dialogs/AddPoolDialog.js';
import { NewVmDialog } from '../../../src-renderer/src/dialogs/NewVmDialog.js';
import { DeviceTable } from '../../../src-renderer/src/views/DeviceTable.js';
import { fakeApi } from './fake-api.js';

afterEach(cleanup);

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const dirPool: PoolSummary = { name: 'images', type: 'dir', path: '/var/lib/ferry/images', autostart: true, active: true, capacityBytes: 100 * GiB, allocationBytes: 10 * GiB, availableBytes: 90 * GiB };
const diskPool: PoolSummary = { name: 'devs', type: 'disk', path: '/dev', autostart: true, active: true, capacityBytes: 0, allocationBytes: 0, availableBytes: 0 };
const device = (path: string, use: NonNullable<VolumeInfo['device']>['use'], devicePath = path): VolumeInfo => ({
  name: path.split('/').at(-1) ?? path, pool: 'devs', path, format: 'raw', virtualSizeBytes: 64 * MiB, allocationBytes: 64 * MiB, backingChain: [], device: { devicePath, type: 'loop', readOnly: false, use },
});
const devices = [
  device('/dev/loop1', { kind: 'mounted', mountpoints: ['/srv/data'] }),
  device('/dev/loop2', { kind: 'signature', signature: 'ext4', usage: 'filesystem' }),
  device('/dev/loop3', { kind: 'free' }),
  device('/dev/loop4', { kind: 'vm', vms: ['web1'] }),
];
const details: VmDetails = { name: 'vm2', host: 'kvm1', state: 'shutoff', memoryMiB: 512, vcpus: 1, defined: true, definition: null, qmpSocket: '/run/ferry/x.qmp', serialLog: '/run/ferry/x.log', vncSocket: '/run/ferry/x.vnc', diskUsage: [] };

describe('the device table of a disk pool', () => {
  it('shows each device with its size, type and use, and no delete button', () => {
    render(<DeviceTable devices={[...devices, device('/srv/links/web.dev', { kind: 'free' }, '/dev/loop9')]} />);
    const table = screen.getByRole('table', { name: 'Block devices' });
    const row = (path: string) => within(table).getByText(path).closest('tr') as HTMLElement;
    expect(row('/dev/loop1').textContent).toContain('mounted at /srv/data');
    expect(row('/dev/loop1').textContent).toContain('64.0 MiB');
    expect(row('/dev/loop2').textContent).toContain('filesystem ext4');
    expect(row('/dev/loop3').textContent).toContain('free');
    expect(row('/dev/loop4').textContent).toContain('in use by VM web1');
    expect(within(row('/srv/links/web.dev')).getByText('/srv/links/web.dev').getAttribute('title')).toBe('links to /dev/loop9');
    expect(within(table).queryByRole('button')).toBeNull();
  });

  it('says when a disk pool has no devices', () => {
    render(<DeviceTable devices={[]} />);
    expect(screen.getByText('No block devices here.')).toBeTruthy();
  });
});

describe('Add Pool with type disk', () => {
  it('fills in /dev, which only a disk pool may use, and sends type disk', async () => {
    const onCreated = vi.fn();
    const api = fakeApi({ 'pools.define': (input) => ({ ...diskPool, name: input.pool, path: input.path }) });
    render(<AddPoolDialog api={api} host="kvm1" existingNames={[]} onCreated={onCreated} onClose={vi.fn()} />);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'devs' } });
    fireEvent.change(screen.getByLabelText('Type'), { target: { value: 'dir' } });
    fireEvent.change(screen.getByLabelText('Target Path'), { target: { value: '/dev' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create Pool' }));
    expect(screen.getByText(/\/dev cannot hold a storage pool/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Target Path'), { target: { value: '' } });
    fireEvent.change(screen.getByLabelText('Type'), { target: { value: 'disk' } });
    expect((screen.getByLabelText('Target Path') as HTMLInputElement).value).toBe('/dev');
    expect(screen.getByText(/Ferry never partitions a disk/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Create Pool' }));
    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    expect(api.calls).toEqual([{ channel: 'pools.define', input: { host: 'kvm1', pool: 'devs', type: 'disk', path: '/dev', autostart: true } }]);
  });
});

describe('New VM on a block device', () => {
  it('offers the disk pools only, lists their devices with their use, and allows only free or signed ones', async () => {
    const api = fakeApi({ 'volumes.list': (input) => (input.pool === 'devs' ? devices : []) });
    render(<NewVmDialog api={api} host="kvm1" pools={[dirPool, diskPool]} existingNames={[]} onCreated={vi.fn()} onClose={vi.fn()} />);
    fireEvent.click(screen.getByRole('radio', { name: 'Block device' }));
    const pool = screen.getByLabelText('Disk pool') as HTMLSelectElement;
    expect([...pool.options].map((option) => option.value)).toEqual(['devs']);
    const select = screen.getByRole('combobox', { name: 'Block device' }) as HTMLSelectElement;
    await waitFor(() => expect(select.options.length).toBe(4));
    expect([...select.options].map((option) => [option.value, option.disabled])).toEqual([
      ['/dev/loop1', true],
      ['/dev/loop2', false],
      ['/dev/loop3', false],
      ['/dev/loop4', true],
    ]);
    expect(select.options[0]?.textContent).toContain('mounted at /srv/data');
    // The first usable device is chosen; it carries a filesystem, which the hint says.
    expect(select.value).toBe('/dev/loop2');
    expect(screen.getByText(/carries filesystem ext4: the VM can overwrite it/)).toBeTruthy();
  });

  it('defines the VM with the device as a raw disk and creates no volume', async () => {
    const onCreated = vi.fn();
    const api = fakeApi({ 'volumes.list': () => devices, 'vms.define': () => details });
    render(<NewVmDialog api={api} host="kvm1" pools={[dirPool, diskPool]} existingNames={[]} onCreated={onCreated} onClose={vi.fn()} />);
    fireEvent.change(screen.getByLabelText('Name', { exact: true }), { target: { value: 'vm2' } });
    fireEvent.click(screen.getByRole('radio', { name: 'Block device' }));
    const select = screen.getByRole('combobox', { name: 'Block device' }) as HTMLSelectElement;
    await waitFor(() => expect(select.options.length).toBe(4));
    fireEvent.change(select, { target: { value: '/dev/loop3' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create VM' }));
    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    expect(api.calls.some((call) => call.channel === 'volumes.create')).toBe(false);
    expect(api.calls.find((call) => call.channel === 'vms.define')?.input).toMatchObject({ disks: [{ path: '/dev/loop3', format: 'raw' }] });
  });

  it('says to add a disk pool when the host has none', () => {
    render(<NewVmDialog api={fakeApi({})} host="kvm1" pools={[dirPool]} existingNames={[]} onCreated={vi.fn()} onClose={vi.fn()} />);
    fireEvent.click(screen.getByRole('radio', { name: 'Block device' }));
    fireEvent.click(screen.getByRole('button', { name: 'Create VM' }));
    expect(screen.getByText(/Add a disk pool on the host’s Storage tab/)).toBeTruthy();
  });
});

describe('a device mounted in many places', () => {
  it('shows three mount points and the count of the rest, all of them in the tooltip', () => {
    const mounts = ['/', '/var/lib/a', '/var/lib/b', '/var/lib/c', '/run/netns'];
    render(<DeviceTable devices={[device('/dev/vda', { kind: 'mounted', mountpoints: mounts })]} />);
    const cell = screen.getByText('mounted at /, /var/lib/a, /var/lib/b and 2 more');
    expect(cell.closest('td')?.getAttribute('title')).toBe(`mounted at ${mounts.join(', ')}`);
  });
});
