// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HostSummary, ModeAvailability, PoolSummary, PreflightReport, VmDetails, VolumeInfo } from '../../../src-main/core/api/types.js';
import { deviceItems, type DeviceReport } from '../../../src-main/core/migration/device-checks.js';
import { MigrateDialog } from '../../../src-renderer/src/dialogs/MigrateDialog.js';
import { deviceChoices, signatureFindings } from '../../../src-renderer/src/dialogs/disk-targets.js';
import { formatBytes } from '../../../src-renderer/src/util/format.js';
import { fakeApi } from './fake-api.js';

afterEach(cleanup);

const MiB = 1024 * 1024;
const host = (name: string): HostSummary => ({ name, transport: 'ssh', uri: `qemu+ssh://root@${name}/system`, address: name, autoconnect: true, state: 'connected', hypervisor: 'ferry' });
const modes: ModeAvailability[] = [
  { mode: 'live', possible: false, reason: 'No shared storage', recommended: false },
  { mode: 'block', possible: true, reason: 'Copies the disks', recommended: false },
  { mode: 'offline', possible: true, reason: 'Stops, copies, starts', recommended: true },
];
const diskPool: PoolSummary = { name: 'devs', type: 'disk', path: '/dev', autostart: true, active: true, capacityBytes: 0, allocationBytes: 0, availableBytes: 0 };
const dirPool: PoolSummary = { name: 'images', type: 'dir', path: '/var/lib/ferry/images', autostart: true, active: true, capacityBytes: 10 * MiB, allocationBytes: 0, availableBytes: 10 * MiB };
const device = (path: string, sizeMiB: number, use: NonNullable<VolumeInfo['device']>['use']): VolumeInfo => ({
  name: path.slice(5), pool: 'devs', path, format: 'raw', virtualSizeBytes: sizeMiB * MiB, allocationBytes: sizeMiB * MiB, backingChain: [], device: { devicePath: path, type: 'loop', readOnly: false, use },
});
const devices = [
  device('/dev/loop1', 64, { kind: 'free' }),
  device('/dev/loop2', 64, { kind: 'signature', signature: 'ext4', usage: 'filesystem' }),
  device('/dev/loop3', 64, { kind: 'mounted', mountpoints: ['/mnt'] }),
  device('/dev/loop4', 8, { kind: 'free' }),
];
const details = { diskUsage: [{ path: '/var/lib/ferry/images/vm1.qcow2', virtualSizeBytes: 32 * MiB, allocationBytes: MiB, backingFile: null }] } as unknown as VmDetails;

/** The pre-flight report as the engine words it: built by the engine's own deviceItems. */
function reportFor(path: string, overwriteAllowed: boolean): PreflightReport {
  const report: DeviceReport = { path, state: 'device', realPath: path, sizeBytes: 64 * MiB, mounts: [], holders: [], openBy: [], signature: { type: 'ext4', usage: 'filesystem' } };
  const items = deviceItems({ report, host: 'b', sourceBytes: 32 * MiB, sourcePath: '/var/lib/ferry/images/vm1.qcow2', exactSize: false, overwriteAllowed });
  return { ok: overwriteAllowed, modes, items };
}

describe('choices of destination devices', () => {
  it('refuses devices in use or smaller than the disk, and names what is on one with a signature', () => {
    const choices = deviceChoices(devices, 32 * MiB, formatBytes);
    expect(choices.map((choice) => [choice.path, choice.refusal !== null, choice.signature])).toEqual([
      ['/dev/loop1', false, null],
      ['/dev/loop2', false, 'filesystem ext4'],
      ['/dev/loop3', true, null],
      ['/dev/loop4', true, null],
    ]);
    expect(choices[2]?.label).toContain('mounted at /mnt');
    expect(choices[3]?.refusal).toMatch(/too small/);
  });

  it('reads what the pre-flight found on a device from its report, before and after overwriting is allowed', () => {
    expect(signatureFindings(reportFor('/dev/loop2', false)).get('/dev/loop2')).toBe('a filesystem signature (ext4)');
    expect(signatureFindings(reportFor('/dev/loop2', true)).get('/dev/loop2')).toBe('a filesystem signature (ext4)');
    expect(signatureFindings(null).size).toBe(0);
  });
});

describe('MigrateDialog destination devices', () => {
  const setup = () => {
    const check = vi.fn((input: { overwriteDevices?: string[] }) => reportFor('/dev/loop2', (input.overwriteDevices ?? []).includes('/dev/loop2')));
    const api = fakeApi({
      'migrations.modes': () => modes,
      'vms.info': () => details,
      'volumes.list': (input) => (input.pool === 'devs' ? devices : []),
      'migrations.check': check,
      'migrations.start': () => ({ id: 'm1', vm: 'vm1', from: 'a', to: 'b', mode: 'offline', phase: 'preflight', startedAt: '2026-12-01T10:00:00.000Z', committed: false, report: null }),
    });
    render(<MigrateDialog api={api} vm="vm1" from="a" hosts={[host('a'), host('b')]} poolsByHost={{ b: [dirPool, diskPool] }} onStarted={vi.fn()} onClose={vi.fn()} />);
    return { api, check };
  };

  it('lists the destination disk pool devices per disk, only free and large enough ones choosable, and keeps disk pools out of the destination pool', async () => {
    const { api } = setup();
    const select = (await screen.findByLabelText('Disk /var/lib/ferry/images/vm1.qcow2 (32.0 MiB)')) as HTMLSelectElement;
    await waitFor(() => expect(select.options.length).toBe(5));
    const options = [...select.options].map((option) => [option.value, option.disabled]);
    expect(options).toEqual([['', false], ['/dev/loop1', false], ['/dev/loop2', false], ['/dev/loop3', true], ['/dev/loop4', true]]);
    expect(api.calls.filter((call) => call.channel === 'volumes.list').map((call) => call.input)).toEqual([{ host: 'b', pool: 'devs' }]);
    const destinationPool = screen.getByLabelText('Destination pool') as HTMLSelectElement;
    expect([...destinationPool.options].map((option) => option.value)).toEqual(['', 'images']);
  });

  it('sends the chosen device as the disk target, and overwriting only after the box naming the device and its filesystem is ticked', async () => {
    const { api, check } = setup();
    const select = (await screen.findByLabelText(/^Disk \/var\/lib\/ferry\/images\/vm1.qcow2/)) as HTMLSelectElement;
    await waitFor(() => expect(select.options.length).toBe(5));
    fireEvent.change(select, { target: { value: '/dev/loop2' } });
    const overwrite = screen.getByRole('checkbox', { name: /Overwrite \/dev\/loop2 on b: it carries filesystem ext4/ }) as HTMLInputElement;
    expect(overwrite.checked).toBe(false);

    fireEvent.click(screen.getByRole('button', { name: 'Check' }));
    const results = await screen.findByRole('region', { name: 'Check results' });
    expect(within(results).getByText(/carries a filesystem signature \(ext4\)/)).toBeTruthy();
    expect(check).toHaveBeenLastCalledWith(expect.objectContaining({ diskTargets: { '/var/lib/ferry/images/vm1.qcow2': '/dev/loop2' }, overwriteDevices: [] }));
    // After the check, the box names what the pre-flight found.
    expect(screen.getByRole('checkbox', { name: 'Overwrite /dev/loop2 on b: it carries a filesystem signature (ext4), which will be destroyed' })).toBeTruthy();

    fireEvent.click(screen.getByRole('checkbox', { name: /Overwrite \/dev\/loop2/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Start migration' }));
    await waitFor(() => expect(api.calls.some((call) => call.channel === 'migrations.start')).toBe(true));
    expect(api.calls.find((call) => call.channel === 'migrations.start')?.input).toMatchObject({
      mode: 'offline', diskTargets: { '/var/lib/ferry/images/vm1.qcow2': '/dev/loop2' }, overwriteDevices: ['/dev/loop2'],
    });
  });

  it('sends no disk targets when every disk keeps its default, and drops the overwrite when the device is unchosen', async () => {
    const { api } = setup();
    const select = (await screen.findByLabelText(/^Disk \/var\/lib\/ferry\/images\/vm1.qcow2/)) as HTMLSelectElement;
    await waitFor(() => expect(select.options.length).toBe(5));
    fireEvent.change(select, { target: { value: '/dev/loop2' } });
    fireEvent.click(screen.getByRole('checkbox', { name: /Overwrite \/dev\/loop2/ }));
    fireEvent.change(select, { target: { value: '' } });
    expect(screen.queryByRole('checkbox', { name: /Overwrite \/dev\/loop2/ })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Start migration' }));
    await waitFor(() => expect(api.calls.some((call) => call.channel === 'migrations.start')).toBe(true));
    const input = api.calls.find((call) => call.channel === 'migrations.start')?.input as Record<string, unknown>;
    expect(input['diskTargets']).toBeUndefined();
    expect(input['overwriteDevices']).toBeUndefined();
  });
});
