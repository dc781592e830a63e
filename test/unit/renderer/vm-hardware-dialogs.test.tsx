// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PoolSummary, VmDefinition, VmDetails } from '../../../src-main/core/api/types.js';
import { EditVmDialog } from '../../../src-renderer/src/dialogs/EditVmDialog.js';
import { NewVmDialog } from '../../../src-renderer/src/dialogs/NewVmDialog.js';
import { apiError, fakeApi } from './fake-api.js';

afterEach(cleanup);

const pools: PoolSummary[] = [];
const fill = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label, { exact: true }), { target: { value } });
const details = (name: string, definition: VmDefinition | null = null): VmDetails => ({
  name, host: 'kvm1', state: 'shutoff', memoryMiB: 256, vcpus: 1, defined: true, definition, qmpSocket: '/run/ferry/x.qmp', serialLog: '/run/ferry/x.log', vncSocket: '/run/ferry/x.vnc', diskUsage: [],
});

describe('NewVmDialog hardware', () => {
  it("checks a bridge NIC and the ISO path with the contract's own schemas", () => {
    render(<NewVmDialog api={fakeApi({})} host="kvm1" pools={pools} existingNames={[]} onCreated={vi.fn()} onClose={vi.fn()} />);
    fill('Name', 'inst');
    fireEvent.change(screen.getByLabelText('NIC 1 network'), { target: { value: 'bridge' } });
    fireEvent.change(screen.getByLabelText('NIC 1 bridge'), { target: { value: '-bad' } });
    fireEvent.click(screen.getByRole('checkbox', { name: 'Install from an ISO image (CD-ROM)' }));
    fill('ISO path', '/etc/x.iso');
    fireEvent.click(screen.getByRole('button', { name: 'Create VM' }));
    expect(screen.getByText(/NIC 1: bridge names are 1–15 letters/)).toBeTruthy();
    expect(screen.getByText(/\/etc\/x\.iso cannot be a VM disk: it is inside \/etc/)).toBeTruthy();
  });

  it('defines a VM that installs from an ISO, with a bridge NIC, a boot order and autostart', async () => {
    const api = fakeApi({ 'vms.define': (input) => details(input.name) });
    const onCreated = vi.fn();
    render(<NewVmDialog api={api} host="kvm1" pools={pools} existingNames={[]} onCreated={onCreated} onClose={vi.fn()} />);
    fill('Name', 'inst');
    fireEvent.change(screen.getByLabelText('NIC 1 network'), { target: { value: 'bridge' } });
    fireEvent.change(screen.getByLabelText('NIC 1 bridge'), { target: { value: 'br0' } });
    fireEvent.click(screen.getByRole('checkbox', { name: 'Install from an ISO image (CD-ROM)' }));
    fill('ISO path', '/var/lib/ferry/images/alma.iso');
    fill('Boot order', 'cdrom,disk');
    fill('CPU model', 'host');
    fill('Firmware', 'uefi');
    fireEvent.click(screen.getByRole('checkbox', { name: 'Start this VM when the host boots' }));
    expect(screen.getByText(/migrates only to a host with the same CPU/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Create VM' }));
    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    expect(api.calls[0]?.input).toMatchObject({
      name: 'inst',
      cpuModel: 'host',
      nics: [{ model: 'virtio-net-pci', network: { type: 'bridge', bridge: 'br0' } }],
      cdrom: '/var/lib/ferry/images/alma.iso',
      boot: ['cdrom'],
      autostart: true,
      firmware: 'uefi',
    });
  });
});

const definition: VmDefinition = {
  name: 'web', memoryMiB: 512, vcpus: 1, machineType: 'pc-q35-7.2', cpuModel: 'qemu64', accel: 'auto',
  disks: [{ path: '/var/lib/ferry/images/web.qcow2', format: 'qcow2', cache: 'none' }],
  nic: { model: 'e1000', mac: '52:54:00:11:22:33' }, cdrom: '/var/lib/ferry/images/old.iso', boot: ['cdrom', 'disk'],
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('EditVmDialog', () => {
  it('starts from the definition, keeps the MAC of the kept NIC, ejects an emptied ISO and saves with vms.update', async () => {
    const api = fakeApi({ 'vms.update': (input) => details(input.name, definition) });
    const onSaved = vi.fn();
    render(<EditVmDialog api={api} host="kvm1" definition={definition} onSaved={onSaved} onClose={vi.fn()} />);
    expect((screen.getByLabelText('Memory (MiB)') as HTMLInputElement).value).toBe('512');
    expect(screen.getByText('52:54:00:11:22:33')).toBeTruthy();
    fill('Memory (MiB)', '1024');
    fill('vCPUs', '2');
    fill('CPU model', 'Nehalem-v1');
    fill('CD-ROM (ISO path)', '');
    fireEvent.click(screen.getByRole('button', { name: 'Add network interface' }));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(api.calls[0]).toMatchObject({
      channel: 'vms.update',
      input: {
        host: 'kvm1', name: 'web', memoryMiB: 1024, vcpus: 2, cpuModel: 'Nehalem-v1', cdrom: null, boot: [], firmware: 'bios',
        disks: [{ path: '/var/lib/ferry/images/web.qcow2', format: 'qcow2', cache: 'none' }],
        nics: [{ model: 'e1000', mac: '52:54:00:11:22:33', network: { type: 'user' } }, { model: 'virtio-net-pci', network: { type: 'user' } }],
      },
    });
  });

  it('shows why the engine refused, e.g. the VM was started meanwhile', async () => {
    const api = fakeApi({ 'vms.update': () => Promise.reject(apiError({ code: 'busy', message: 'VM "web" is running on kvm1; its hardware can only change while it is off', hint: 'Shut it down (or force it off), edit it, then start it again.' })) });
    render(<EditVmDialog api={api} host="kvm1" definition={definition} onSaved={vi.fn()} onClose={vi.fn()} />);
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/can only change while it is off/)).toBeTruthy();
  });
});
