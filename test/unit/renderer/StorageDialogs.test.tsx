// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PoolSummary, VolumeInfo } from '../../../src-main/core/api/types.js';
import { AddPoolDialog } from '../../../src-renderer/src/dialogs/AddPoolDialog.js';
import { NewVolumeDialog } from '../../../src-renderer/src/dialogs/NewVolumeDialog.js';
import { apiError, deferred, fakeApi } from './fake-api.js';

afterEach(cleanup);

const GiB = 1024 ** 3;
const pool: PoolSummary = { name: 'images', type: 'dir', path: '/var/lib/ferry/images', autostart: true, active: true, capacityBytes: 100 * GiB, allocationBytes: 98 * GiB, availableBytes: 2 * GiB };
const fill = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label, { exact: true }), { target: { value } });

describe('AddPoolDialog', () => {
  it('validates name, path and the NFS source', () => {
    const api = fakeApi({});
    render(<AddPoolDialog api={api} host="kvm1" existingNames={['images']} onCreated={vi.fn()} onClose={vi.fn()} />);
    fireEvent.click(screen.getByRole('button', { name: 'Create Pool' }));
    expect(screen.getByText('Target path is required')).toBeTruthy();
    fill('Name', 'images');
    expect(screen.getByText('There is already a pool "images" on kvm1')).toBeTruthy();
    fill('Target Path', 'relative/dir');
    expect(screen.getByText('Target path must be an absolute path (starting with /)')).toBeTruthy();
    fill('Type', 'netfs');
    expect(screen.getByText(/An NFS pool needs the export/)).toBeTruthy();
    fill('Source', 'no-colon');
    expect(screen.getByText('Must look like SERVER:/EXPORT')).toBeTruthy();
    expect(api.calls).toEqual([]);
  });

  it('defines a netfs pool and shows engine errors inline', async () => {
    const pending = deferred<PoolSummary>();
    const api = fakeApi({ 'pools.define': () => pending.promise });
    const onCreated = vi.fn();
    render(<AddPoolDialog api={api} host="kvm1" existingNames={[]} onCreated={onCreated} onClose={vi.fn()} />);
    fill('Name', 'nfs');
    fill('Type', 'netfs');
    fill('Target Path', '/srv/vms');
    fill('Source', 'nas:/exports/vms');
    fireEvent.click(screen.getByRole('button', { name: 'Create Pool' }));
    await waitFor(() => expect((screen.getByRole('button', { name: 'Create Pool' }) as HTMLButtonElement).disabled).toBe(true));
    expect(api.calls[0]).toEqual({ channel: 'pools.define', input: { host: 'kvm1', pool: 'nfs', type: 'netfs', path: '/srv/vms', autostart: true, source: 'nas:/exports/vms' } });
    pending.reject(apiError({ code: 'remote-command-failed', message: 'mount.nfs: access denied', hint: 'Check that the NFS server exports it to this host.' }));
    expect(await screen.findByText('mount.nfs: access denied')).toBeTruthy();
    expect(screen.getByText('Check that the NFS server exports it to this host.')).toBeTruthy();
    expect(onCreated).not.toHaveBeenCalled();
  });
});

describe('NewVolumeDialog', () => {
  it("shows the pool's free space and validates the capacity", () => {
    const api = fakeApi({});
    render(<NewVolumeDialog api={api} host="kvm1" pool={pool} existingNames={['a.qcow2']} onCreated={vi.fn()} onClose={vi.fn()} />);
    expect(screen.getByLabelText('Pool free space').textContent).toContain('2.0 GiB free of 100 GiB');
    fireEvent.click(screen.getByRole('button', { name: 'Create Volume' }));
    fill('Name', 'a.qcow2');
    expect(screen.getByText('There is already a volume "a.qcow2" in images')).toBeTruthy();
    fill('Capacity', 'ten gigs');
    expect(screen.getByText('Use a size such as 10G, 512M or 1.5GiB')).toBeTruthy();
    fill('Capacity', '10G');
    expect(screen.getByText(/More than the 2.0 GiB free/)).toBeTruthy();
    fill('Allocation', 'full');
    expect(screen.getByText('Only 2.0 GiB free in images; a fully allocated volume needs 10.0 GiB')).toBeTruthy();
    fill('Format', 'raw');
    expect((screen.getByLabelText('Backing store') as HTMLInputElement).disabled).toBe(true);
    expect(api.calls).toEqual([]);
  });

  it('creates a qcow2 volume over a backing store and shows errors inline', async () => {
    let fail = true;
    const created: VolumeInfo = { name: 'b.qcow2', pool: 'images', path: '/var/lib/ferry/images/b.qcow2', format: 'qcow2', virtualSizeBytes: GiB, allocationBytes: 0, backingChain: [] };
    const api = fakeApi({
      'volumes.create': () => {
        if (fail) {
          fail = false;
          throw apiError({ code: 'no-space', message: 'images has 2.0 GiB free', hint: 'Free space or pick another pool.' });
        }
        return created;
      },
    });
    const onCreated = vi.fn();
    render(<NewVolumeDialog api={api} host="kvm1" pool={pool} existingNames={[]} onCreated={onCreated} onClose={vi.fn()} />);
    fill('Name', 'b.qcow2');
    fill('Capacity', '1G');
    fill('Backing store', '/var/lib/ferry/images/base.qcow2');
    fireEvent.click(screen.getByRole('button', { name: 'Create Volume' }));
    expect(await screen.findByText('images has 2.0 GiB free')).toBeTruthy();
    expect(screen.getByText('Free space or pick another pool.')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Create Volume' }));
    await waitFor(() => expect(onCreated).toHaveBeenCalledWith(created));
    expect(api.calls[1]?.input).toEqual({ host: 'kvm1', pool: 'images', name: 'b.qcow2', format: 'qcow2', capacity: GiB, preallocation: 'off', backing: '/var/lib/ferry/images/base.qcow2', backingFormat: 'qcow2' });
  });
});
