// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HostSummary, MigrationSummary, ModeAvailability } from '../../../src-main/core/api/types.js';
import { MigrateDialog } from '../../../src-renderer/src/dialogs/MigrateDialog.js';
import { apiError, fakeApi } from './fake-api.js';

afterEach(cleanup);

const host = (name: string, address: string): HostSummary => ({ name, transport: 'ssh', uri: `qemu+ssh://root@${address}/system`, address, autoconnect: true, state: 'connected', hypervisor: 'ferry' });
const hosts = [host('a', '10.0.0.1'), host('b', '10.0.0.2'), host('c', '10.0.0.3')];
const modes: ModeAvailability[] = [
  { mode: 'live', possible: false, reason: 'The disks are not on storage both hosts share', recommended: false },
  { mode: 'block', possible: true, reason: 'Copies the disks while the VM runs', recommended: true },
  { mode: 'offline', possible: true, reason: 'Stops the VM, copies, starts it there', recommended: false },
];
const startedSummary: MigrationSummary = { id: 'm1', vm: 'vm1', from: 'a', to: 'b', mode: 'block', phase: 'preflight', startedAt: '2026-12-01T10:00:00.000Z', committed: false, report: null };
const fill = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label, { exact: true }), { target: { value } });

describe('MigrateDialog', () => {
  it('offers the modes migrations.modes returns, impossible ones disabled with their reason', async () => {
    const api = fakeApi({ 'migrations.modes': () => modes });
    render(<MigrateDialog api={api} vm="vm1" from="a" hosts={hosts} poolsByHost={{}} onStarted={vi.fn()} onClose={vi.fn()} />);
    const live = (await screen.findByRole('radio', { name: /Live \(shared storage\)/ })) as HTMLInputElement;
    expect(live.disabled).toBe(true);
    expect(screen.getByText('The disks are not on storage both hosts share')).toBeTruthy();
    const block = screen.getByRole('radio', { name: /Live with block copy/ }) as HTMLInputElement;
    expect(block.checked).toBe(true);
    expect(api.calls[0]).toEqual({ channel: 'migrations.modes', input: { vm: 'vm1', from: 'a', to: 'b' } });
    const destination = screen.getByLabelText('Destination') as HTMLSelectElement;
    expect([...destination.options].map((o) => o.value)).toEqual(['b', 'c']);
    fireEvent.change(destination, { target: { value: 'c' } });
    await waitFor(() => expect(api.calls.at(-1)?.input).toEqual({ vm: 'vm1', from: 'a', to: 'c' }));
  });

  it('shows why modes could not be listed (engine error) and blocks starting', async () => {
    const api = fakeApi({ 'migrations.modes': () => Promise.reject(apiError({ code: 'unsupported', message: 'Migration is not built yet', hint: 'Update Ferry.' })) });
    render(<MigrateDialog api={api} vm="vm1" from="a" hosts={hosts} poolsByHost={{}} onStarted={vi.fn()} onClose={vi.fn()} />);
    expect(await screen.findByText('Migration is not built yet')).toBeTruthy();
    expect(screen.getByText('Update Ferry.')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Start migration' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('validates the numbers before checking', async () => {
    const api = fakeApi({ 'migrations.modes': () => modes });
    render(<MigrateDialog api={api} vm="vm1" from="a" hosts={hosts} poolsByHost={{}} onStarted={vi.fn()} onClose={vi.fn()} />);
    await screen.findByRole('radio', { name: /Live with block copy/ });
    fill('Port', '80');
    fill('Bandwidth (MiB/s)', '-5');
    fill('Max downtime (ms)', '0.5');
    fill('Address', 'bad address');
    fireEvent.click(screen.getByRole('button', { name: 'Check' }));
    expect(screen.getByText('Port must be from 1024 to 65535')).toBeTruthy();
    expect(screen.getByText('Bandwidth must be a positive number of MiB/s')).toBeTruthy();
    expect(screen.getByText(/Downtime must be a whole number/)).toBeTruthy();
    expect(screen.getByText('Must be a host name or an IP address')).toBeTruthy();
    expect(api.calls.filter((c) => c.channel === 'migrations.check')).toEqual([]);
  });

  it('Check lists errors and warnings; Start sends the options', async () => {
    const started: MigrationSummary = { id: 'm1', vm: 'vm1', from: 'a', to: 'b', mode: 'block', phase: 'preflight', startedAt: new Date().toISOString(), committed: false, report: null };
    const api = fakeApi({
      'migrations.modes': () => modes,
      'migrations.check': () => ({
        ok: false,
        modes,
        items: [
          { level: 'error', check: 'space', message: 'b has 1 GiB free, the disks need 10 GiB', hint: 'Free space on b or choose another pool.' },
          { level: 'warning', check: 'cpu', message: 'CPU models differ' },
          { level: 'ok', check: 'qemu', message: 'Same QEMU version' },
        ],
      }),
      'migrations.start': () => started,
    });
    const onStarted = vi.fn();
    render(<MigrateDialog api={api} vm="vm1" from="a" hosts={hosts} poolsByHost={{}} onStarted={onStarted} onClose={vi.fn()} />);
    await screen.findByRole('radio', { name: /Live with block copy/ });
    fill('Bandwidth (MiB/s)', '100');
    fill('Max downtime (ms)', '500');
    fill('Transport', 'tls');
    fireEvent.click(screen.getByRole('checkbox', { name: /Auto-converge/ }));
    fill('Multifd channels', '4');
    fireEvent.click(screen.getByRole('button', { name: 'Check' }));
    const results = await screen.findByRole('region', { name: 'Check results' });
    expect(results.textContent).toContain('Not ready');
    expect(results.textContent).toContain('b has 1 GiB free, the disks need 10 GiB');
    expect(results.textContent).toContain('Free space on b or choose another pool.');
    expect(results.textContent).toContain('CPU models differ');
    fireEvent.click(screen.getByRole('button', { name: 'Start migration' }));
    await waitFor(() => expect(onStarted).toHaveBeenCalledWith(started));
    expect(api.calls.find((c) => c.channel === 'migrations.start')?.input).toEqual({
      vm: 'vm1', from: 'a', to: 'b', mode: 'block', transport: 'tls', autoConverge: true, postcopy: false, bandwidthMiBps: 100, downtimeMs: 500, multifd: 4, incremental: false, reuseImages: false,
    });
  });

  it('shows the prediction with its basis, and what to turn on when it will not converge', async () => {
    const api = fakeApi({
      'migrations.modes': () => modes,
      'migrations.check': () => ({
        ok: true,
        modes,
        items: [{ level: 'ok', check: 'qemu', message: 'Same QEMU version' }],
        prediction: {
          totalTimeMs: null, downtimeMs: null, passes: null, converges: false, recommendation: 'auto-converge', throughputBps: 100 * 2 ** 20, dirtyRateBps: 95 * 2 ** 20, ramBytes: 2 ** 28, diskBytes: 0,
          basis: 'throughput of the last 2 migration(s) between these hosts',
          summary: 'Will not converge: the guest dirties 95.0 MiB/s and the link moves 100.0 MiB/s. Turn on auto-converge, or raise the downtime limit.',
        },
      }),
    });
    render(<MigrateDialog api={api} vm="vm1" from="a" hosts={hosts} poolsByHost={{}} onStarted={vi.fn()} onClose={vi.fn()} />);
    await screen.findByRole('radio', { name: /Live with block copy/ });
    fireEvent.click(screen.getByRole('button', { name: 'Check' }));
    const prediction = await screen.findByLabelText('Prediction');
    expect(prediction.textContent).toContain('Will not converge: the guest dirties 95.0 MiB/s');
    expect(prediction.textContent).toContain('Recommended before you start: turn on Auto-converge');
    expect(prediction.textContent).toContain('From throughput of the last 2 migration(s) between these hosts.');
  });

  it('defaults to TLS and to refusing existing destination images', async () => {
    const api = fakeApi({ 'migrations.modes': () => modes, 'migrations.start': () => ({ ...startedSummary }) });
    render(<MigrateDialog api={api} vm="vm1" from="a" hosts={hosts} poolsByHost={{}} onStarted={vi.fn()} onClose={vi.fn()} />);
    await screen.findByRole('radio', { name: /Live with block copy/ });
    expect((screen.getByLabelText('Transport') as HTMLSelectElement).value).toBe('tls');
    expect(screen.getByText(/TCP would send it in the clear/)).toBeTruthy();
    fill('Transport', 'tcp');
    expect(screen.getByText('In the clear — only on a trusted migration network')).toBeTruthy();
    fill('Transport', 'tls');
    const overwrite = screen.getByRole('checkbox', { name: 'Overwrite existing disk images at the destination' }) as HTMLInputElement;
    expect(overwrite.checked).toBe(false);
    expect(screen.queryByText(/written over and their contents lost/)).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Start migration' }));
    await waitFor(() => expect(api.calls.find((c) => c.channel === 'migrations.start')?.input).toMatchObject({ transport: 'tls', reuseImages: false }));
  });

  it('sends reuseImages when the overwrite box is ticked, with a warning shown', async () => {
    const api = fakeApi({
      'migrations.modes': () => modes,
      'migrations.check': (input) =>
        input.reuseImages
          ? { ok: true, modes, items: [{ level: 'ok', check: 'disks', message: '/var/lib/ferry/vm1.qcow2 exists on b and will be overwritten.' }] }
          : {
              ok: false,
              modes,
              items: [{ level: 'error', check: 'disks', message: '/var/lib/ferry/vm1.qcow2 already exists on b.', hint: 'Remove or rename it there, or allow overwriting it.' }],
            },
      'migrations.start': () => ({ ...startedSummary }),
    });
    render(<MigrateDialog api={api} vm="vm1" from="a" hosts={hosts} poolsByHost={{}} onStarted={vi.fn()} onClose={vi.fn()} />);
    await screen.findByRole('radio', { name: /Live with block copy/ });
    fireEvent.click(screen.getByRole('button', { name: 'Check' }));
    const refused = await screen.findByRole('region', { name: 'Check results' });
    expect(refused.textContent).toContain('/var/lib/ferry/vm1.qcow2 already exists on b.');
    expect(refused.textContent).toContain('Remove or rename it there, or allow overwriting it.');
    fireEvent.click(screen.getByRole('checkbox', { name: 'Overwrite existing disk images at the destination' }));
    expect(screen.getByText(/written over and their contents lost/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Check' }));
    await waitFor(() => expect(screen.getByRole('region', { name: 'Check results' }).textContent).toContain('will be overwritten'));
    fireEvent.click(screen.getByRole('button', { name: 'Start migration' }));
    await waitFor(() => expect(api.calls.find((c) => c.channel === 'migrations.start')?.input).toMatchObject({ mode: 'block', reuseImages: true }));
    expect(api.calls.filter((c) => c.channel === 'migrations.check').map((c) => (c.input as { reuseImages?: boolean }).reuseImages)).toEqual([false, true]);
  });

  it('offers no overwrite choice for live migration over shared storage (no images are copied)', async () => {
    const sharedModes: ModeAvailability[] = [{ mode: 'live', possible: true, reason: 'The disks are on shared storage', recommended: true }];
    const api = fakeApi({ 'migrations.modes': () => sharedModes, 'migrations.start': () => ({ ...startedSummary, mode: 'live' }) });
    render(<MigrateDialog api={api} vm="vm1" from="a" hosts={hosts} poolsByHost={{}} onStarted={vi.fn()} onClose={vi.fn()} />);
    await screen.findByRole('radio', { name: /Live \(shared storage\)/ });
    expect(screen.queryByRole('checkbox', { name: 'Overwrite existing disk images at the destination' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Start migration' }));
    await waitFor(() => expect(api.calls.find((c) => c.channel === 'migrations.start')?.input).not.toHaveProperty('reuseImages'));
  });

  it('shows a start failure inline', async () => {
    const api = fakeApi({
      'migrations.modes': () => modes,
      'migrations.start': () => Promise.reject(apiError({ code: 'preflight-failed', message: 'The destination lacks qemu-nbd', hint: 'Install qemu-utils on b.' })),
    });
    render(<MigrateDialog api={api} vm="vm1" from="a" hosts={hosts} poolsByHost={{}} onStarted={vi.fn()} onClose={vi.fn()} />);
    await screen.findByRole('radio', { name: /Live with block copy/ });
    fireEvent.click(screen.getByRole('button', { name: 'Start migration' }));
    expect(await screen.findByText('The destination lacks qemu-nbd')).toBeTruthy();
    expect(screen.getByText('Install qemu-utils on b.')).toBeTruthy();
  });
});
