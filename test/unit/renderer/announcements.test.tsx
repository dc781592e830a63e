// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HostSummary, ModeAvailability } from '../../../src-main/core/api/types.js';
import { MigrateDialog } from '../../../src-renderer/src/dialogs/MigrateDialog.js';
import { guardUnloadDuring } from '../../../src-renderer/src/api/unload-guard.js';
import { StoreProvider } from '../../../src-renderer/src/store/context.js';
import { connectEvents, createFerryStore } from '../../../src-renderer/src/store/store.js';
import { migrationAnnouncement } from '../../../src-renderer/src/views/migration-announcement.js';
import { MigrationView } from '../../../src-renderer/src/views/MigrationView.js';
import { fakeApi, type FakeApi } from './fake-api.js';
import { report, runningSummary } from './migration-fixtures.js';

afterEach(cleanup);

describe('migrationAnnouncement', () => {
  it('says the phase while running, and when the point of no return is passed', () => {
    expect(migrationAnnouncement(runningSummary({ phase: 'copying-disks' }))).toBe('Migration of vm1 to b: copying disks.');
    expect(migrationAnnouncement(runningSummary({ phase: 'finishing', committed: true }))).toBe('Migration of vm1 to b: finishing, past the point of no return.');
  });

  it('says the outcome: time and downtime when completed, the error and where the VM is when not', () => {
    expect(migrationAnnouncement(runningSummary({ phase: 'completed', report: report() }))).toBe('Migration of vm1 to b completed in 1 min 0 s, downtime 120 ms.');
    const failed = runningSummary({ phase: 'failed', report: report({ outcome: 'failed', error: { code: 'qemu', message: 'Destination refused the stream.' }, foundOn: [{ host: 'a', state: 'running' }, { host: 'b', state: 'absent' }] }) });
    expect(migrationAnnouncement(failed)).toBe('Migration of vm1 to b failed: Destination refused the stream. VM found on: a — running; b — not there.');
    expect(migrationAnnouncement(runningSummary({ phase: 'cancelled', report: null }))).toBe('Migration of vm1 to b was cancelled.');
  });
});

describe('MigrationView live region', () => {
  it('is polite and changes with the phase and the outcome, not with samples', () => {
    const api = fakeApi({ 'migrations.list': () => [] });
    const store = createFerryStore(api);
    connectEvents(store);
    store.getState().trackMigration(runningSummary({ phase: 'memory' }));
    render(
      <StoreProvider store={store}>
        <MigrationView id="m1" />
      </StoreProvider>,
    );
    const region = screen.getByRole('status', { name: 'Migration progress' });
    expect(region.getAttribute('aria-live')).toBe('polite');
    expect(region.textContent).toBe('Migration of vm1 to b: copying memory.');
    const sample = { t: 1000, phase: 'memory' as const, pass: 1, ram: { totalBytes: 100, transferredBytes: 50, remainingBytes: 50 }, disks: [], throughputBps: 10, dirtyRateBps: 1, timeLeftMs: 5, expectedDowntimeMs: 3, throttlePercent: 0, notConverging: null };
    act(() => api.emit({ name: 'migration-sample', payload: { id: 'm1', sample } }));
    expect(region.textContent).toBe('Migration of vm1 to b: copying memory.');
    act(() => api.emit({ name: 'migration-update', payload: runningSummary({ phase: 'completed', committed: true, report: report() }) }));
    expect(screen.getByRole('status', { name: 'Migration progress' }).textContent).toBe('Migration of vm1 to b completed in 1 min 0 s, downtime 120 ms.');
  });
});

describe('guardUnloadDuring', () => {
  const unload = () => {
    const event = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(event);
    return event.defaultPrevented;
  };
  const webApi = (): FakeApi => Object.assign(fakeApi({}), { kind: 'web' as const });

  it('asks before unloading until the migration started here ends', () => {
    const api = webApi();
    guardUnloadDuring(api, runningSummary({ phase: 'preflight' }));
    expect(unload()).toBe(true);
    api.emit({ name: 'migration-update', payload: runningSummary({ id: 'other', phase: 'completed' }) });
    expect(unload()).toBe(true);
    api.emit({ name: 'migration-update', payload: runningSummary({ phase: 'failed' }) });
    expect(unload()).toBe(false);
  });

  it('installs nothing for a migration already over, or in Electron (its main process asks)', () => {
    guardUnloadDuring(webApi(), runningSummary({ phase: 'completed' }));
    expect(unload()).toBe(false);
    guardUnloadDuring(Object.assign(fakeApi({}), { kind: 'electron' as const }), runningSummary({ phase: 'memory' }));
    expect(unload()).toBe(false);
  });
});

describe('MigrateDialog check status', () => {
  const host = (name: string): HostSummary => ({ name, transport: 'ssh', uri: `qemu+ssh://root@${name}/system`, address: name, autoconnect: true, state: 'connected', hypervisor: 'ferry' });
  const modes: ModeAvailability[] = [{ mode: 'block', possible: true, reason: 'Copies the disks while the VM runs', recommended: true }];

  it('announces checking and then the outcome with its counts', async () => {
    let answer!: (value: { ok: boolean; modes: ModeAvailability[]; items: Array<{ level: 'error' | 'warning' | 'ok'; check: string; message: string }> }) => void;
    const api = fakeApi({
      'migrations.modes': () => modes,
      'migrations.check': () => new Promise((resolve) => (answer = resolve)),
    });
    render(<MigrateDialog api={api} vm="vm1" from="a" hosts={[host('a'), host('b')]} poolsByHost={{}} onStarted={vi.fn()} onClose={vi.fn()} />);
    await screen.findByRole('radio', { name: /Live with block copy/ });
    const status = screen.getByRole('status', { name: 'Check status' });
    expect(status.getAttribute('aria-live')).toBe('polite');
    expect(status.textContent).toBe('');
    fireEvent.click(screen.getByRole('button', { name: 'Check' }));
    expect(status.textContent).toBe('Checking…');
    act(() =>
      answer({
        ok: false,
        modes,
        items: [
          { level: 'error', check: 'space', message: 'No room' },
          { level: 'warning', check: 'cpu', message: 'CPU models differ' },
          { level: 'warning', check: 'tls', message: 'Old TLS' },
        ],
      }),
    );
    await waitFor(() => expect(status.textContent).toBe('Not ready to migrate: 1 error, 2 warnings.'));
  });
});
