// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EvacuationSummary, HostSummary, ModeAvailability, VmSummary } from '../../../src-main/core/api/types.js';
import { EvacuateDialog } from '../../../src-renderer/src/dialogs/EvacuateDialog.js';
import { apiError, deferred, fakeApi } from './fake-api.js';

afterEach(cleanup);

const host = (name: string): HostSummary => ({ name, transport: 'ssh', uri: `qemu+ssh://root@${name}/system`, address: name, autoconnect: true, state: 'connected', hypervisor: 'ferry' });
const hosts = [host('a'), host('b'), host('c')];
const vm = (name: string, state: VmSummary['state'] = 'running'): VmSummary => ({ name, host: 'a', state, memoryMiB: 128, vcpus: 1, defined: true });
const vms = [vm('web'), vm('db'), vm('old', 'shutoff')];

const sharedModes: ModeAvailability[] = [
  { mode: 'live', possible: true, recommended: true, reason: 'Every disk is shared' },
  { mode: 'block', possible: true, recommended: false, reason: 'Nothing to copy' },
  { mode: 'offline', possible: true, recommended: false, reason: 'Shuts it down' },
];
const localModes: ModeAvailability[] = [
  { mode: 'live', possible: false, recommended: false, reason: 'Not on shared storage: db.qcow2' },
  { mode: 'block', possible: true, recommended: true, reason: 'Copies db.qcow2' },
  { mode: 'offline', possible: true, recommended: false, reason: 'Shuts it down' },
];

const evacuation = (patch: Partial<EvacuationSummary> = {}): EvacuationSummary => ({
  id: 'e1',
  host: 'a',
  to: 'b',
  parallel: 1,
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: null,
  state: 'running',
  vms: [
    { vm: 'web', mode: 'live', migrationId: 'm1', state: 'migrating' },
    { vm: 'db', mode: 'offline', migrationId: null, state: 'waiting' },
    { vm: 'old', mode: null, migrationId: null, state: 'skipped', message: 'Not running (shutoff): only running VMs are moved.' },
  ],
  ...patch,
});

const modesFor = (input: { vm: string }) => (input.vm === 'db' ? localModes : sharedModes);
const modeSelect = (name: string) => screen.getByLabelText(`Mode for ${name}`) as HTMLSelectElement;

describe('EvacuateDialog', () => {
  it('preselects each running VM’s recommended mode, disables impossible ones with the reason, lists stopped VMs as staying', async () => {
    const api = fakeApi({ 'migrations.modes': modesFor });
    render(<EvacuateDialog api={api} host="a" hosts={hosts} vms={vms} onClose={vi.fn()} />);
    await waitFor(() => expect(modeSelect('db').value).toBe('block'));
    expect(modeSelect('web').value).toBe('live');
    const live = [...modeSelect('db').options].find((option) => option.value === 'live');
    expect(live?.disabled).toBe(true);
    expect(live?.textContent).toContain('not possible: Not on shared storage: db.qcow2');
    expect(screen.getByText('Not running: stays on a')).toBeTruthy();
    expect(api.calls.map((call) => call.input)).toEqual([{ vm: 'web', from: 'a', to: 'b' }, { vm: 'db', from: 'a', to: 'b' }]);
    expect([...(screen.getByLabelText('Destination') as HTMLSelectElement).options].map((option) => option.value)).toEqual(['b', 'c']);
    fireEvent.change(screen.getByLabelText('Destination'), { target: { value: 'c' } });
    await waitFor(() => expect(api.calls.at(-1)?.input).toEqual({ vm: 'db', from: 'a', to: 'c' }));
  });

  it('sends the destination, parallel count and only the modes that differ from the recommended one, then follows the updates', async () => {
    const answer = deferred<EvacuationSummary>();
    const api = fakeApi({ 'migrations.modes': modesFor, 'hosts.evacuate': () => answer.promise, 'evacuations.cancel': () => evacuation() });
    const onFinished = vi.fn();
    render(<EvacuateDialog api={api} host="a" hosts={hosts} vms={vms} onClose={vi.fn()} onFinished={onFinished} />);
    await waitFor(() => expect(modeSelect('db').value).toBe('block'));
    fireEvent.change(modeSelect('db'), { target: { value: 'offline' } });
    fireEvent.change(screen.getByLabelText('At a time'), { target: { value: '1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start evacuation' }));
    await waitFor(() => expect(api.calls.at(-1)?.channel).toBe('hosts.evacuate'));
    expect(api.calls.at(-1)?.input).toEqual({ host: 'a', to: 'b', parallel: 1, modes: { db: 'offline' } });
    // An update that arrives before the start call's own answer is not lost.
    const ahead = evacuation({ vms: [{ vm: 'web', mode: 'live', migrationId: 'm1', state: 'completed', totalTimeMs: 4200, foundOn: [{ host: 'a', state: 'absent' }, { host: 'b', state: 'running' }] }, ...evacuation().vms.slice(1)] });
    act(() => api.emit({ name: 'evacuation-update', payload: ahead }));
    await act(async () => answer.resolve(evacuation()));
    const table = await screen.findByRole('table', { name: 'Evacuation progress' });
    const webRow = within(table).getByText('web').closest('tr') as HTMLElement;
    expect(webRow.textContent).toContain('4.2 s');
    expect(webRow.textContent).toContain('b (running)');
    expect(within(table).getByText('Not running (shutoff): only running VMs are moved.')).toBeTruthy();

    act(() => api.emit({ name: 'evacuation-update', payload: evacuation({ id: 'other', vms: [] }) }));
    expect(within(table).getByText('db')).toBeTruthy();
    const done = evacuation({
      finishedAt: '2026-12-01T10:01:00.000Z',
      state: 'completed',
      vms: [ahead.vms[0]!, { vm: 'db', mode: 'offline', migrationId: 'm2', state: 'completed', totalTimeMs: 9000, foundOn: [{ host: 'a', state: 'absent' }, { host: 'b', state: 'running' }] }, evacuation().vms[2]!],
    });
    act(() => api.emit({ name: 'evacuation-update', payload: done }));
    await waitFor(() => expect(onFinished).toHaveBeenCalledWith(done));
    expect(screen.queryByRole('button', { name: 'Cancel evacuation' })).toBeNull();
    expect((within(table).getByText('db').closest('tr') as HTMLElement).textContent).toContain('9.0 s');
  });

  it('Cancel asks the engine once and shows which migrations finish because they are past their commit point', async () => {
    const cancelled = evacuation({
      vms: [
        { vm: 'web', mode: 'live', migrationId: 'm1', state: 'migrating', pastCommitPoint: true, message: 'Could not be cancelled: past its commit point, it finishes on b.' },
        { vm: 'db', mode: 'block', migrationId: null, state: 'cancelled', message: 'Not started: the evacuation was cancelled.' },
        evacuation().vms[2]!,
      ],
    });
    const api = fakeApi({ 'migrations.modes': modesFor, 'hosts.evacuate': () => evacuation(), 'evacuations.cancel': () => cancelled });
    render(<EvacuateDialog api={api} host="a" hosts={hosts} vms={vms} onClose={vi.fn()} />);
    await waitFor(() => expect(modeSelect('db').value).toBe('block'));
    fireEvent.click(screen.getByRole('button', { name: 'Start evacuation' }));
    const cancel = await screen.findByRole('button', { name: 'Cancel evacuation' });
    fireEvent.click(cancel);
    expect(await screen.findByText('Could not be cancelled: past its commit point, it finishes on b.')).toBeTruthy();
    expect(screen.getByText('Not started: the evacuation was cancelled.')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Cancel evacuation' }) as HTMLButtonElement).disabled).toBe(true);
    expect(api.calls.filter((call) => call.channel === 'evacuations.cancel')).toEqual([{ channel: 'evacuations.cancel', input: { id: 'e1' } }]);
  });

  it('shows the engine’s refusal inline and stays on the form; a VM whose modes cannot be read is marked as skipped', async () => {
    const api = fakeApi({
      'migrations.modes': (input) => (input.vm === 'web' ? Promise.reject(apiError({ code: 'connection-failed', message: 'b did not answer' })) : localModes),
      'hosts.evacuate': () => Promise.reject(apiError({ code: 'busy', message: 'a is already being evacuated (evacuation e0)', hint: 'Wait for it to end, or cancel it.' })),
    });
    render(<EvacuateDialog api={api} host="a" hosts={hosts} vms={vms} onClose={vi.fn()} />);
    expect(await screen.findByText('b did not answer')).toBeTruthy();
    expect(screen.getByText(/Cannot be moved \(it will be skipped\)/)).toBeTruthy();
    await waitFor(() => expect(modeSelect('db').value).toBe('block'));
    fireEvent.change(screen.getByLabelText('At a time'), { target: { value: '9' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start evacuation' }));
    expect(screen.getByText('From 1 to 8 at a time')).toBeTruthy();
    expect(api.calls.some((call) => call.channel === 'hosts.evacuate')).toBe(false);
    fireEvent.change(screen.getByLabelText('At a time'), { target: { value: '3' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start evacuation' }));
    expect(await screen.findByText('a is already being evacuated (evacuation e0)')).toBeTruthy();
    expect(screen.getByText('Wait for it to end, or cancel it.')).toBeTruthy();
    expect(api.calls.find((call) => call.channel === 'hosts.evacuate')?.input).toEqual({ host: 'a', to: 'b', parallel: 3, modes: {} });
    expect(screen.getByRole('button', { name: 'Start evacuation' })).toBeTruthy();
  });
});
