// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { MigrationReportView } from '../../../src-renderer/src/components/MigrationReportView.js';
import { foundOnText } from '../../../src-renderer/src/components/FoundOnLine.js';
import { StoreProvider } from '../../../src-renderer/src/store/context.js';
import { connectEvents, createFerryStore } from '../../../src-renderer/src/store/store.js';
import { MigrationView } from '../../../src-renderer/src/views/MigrationView.js';
import { apiError, deferred, fakeApi, type Handlers } from './fake-api.js';
import { inDoubtSummary, report, runningSummary } from './migration-fixtures.js';
import type { MigrationSummary } from '../../../src-main/core/api/types.js';

afterEach(cleanup);

function showMigration(summary: MigrationSummary, handlers: Handlers = {}) {
  const api = fakeApi({ 'migrations.list': () => [], ...handlers });
  const store = createFerryStore(api);
  connectEvents(store);
  store.getState().trackMigration(summary);
  render(
    <StoreProvider store={store}>
      <MigrationView id={summary.id} />
    </StoreProvider>,
  );
  return { api, store };
}

const cancelButton = () => screen.getByRole('button', { name: 'Cancel migration' }) as HTMLButtonElement;

describe('MigrationView: commit point', () => {
  it('keeps Cancel enabled before the commit point, with no explanation', () => {
    showMigration(runningSummary());
    expect(cancelButton().disabled).toBe(false);
    expect(screen.queryByText(/point of no return/)).toBeNull();
  });

  it('disables Cancel once committed and says why next to it', () => {
    showMigration(runningSummary({ committed: true }));
    const button = cancelButton();
    expect(button.disabled).toBe(true);
    const explanation = screen.getByText("Past the point of no return: finishing on b — the guest's memory is already there");
    expect(button.getAttribute('aria-describedby')).toBe(explanation.id);
  });

  it('turns Cancel off when the engine reports the commit mid-way', () => {
    const { api } = showMigration(runningSummary());
    expect(cancelButton().disabled).toBe(false);
    api.emit({ name: 'migration-update', payload: runningSummary({ committed: true, phase: 'switchover' }) });
    return waitFor(() => expect(cancelButton().disabled).toBe(true));
  });

  it('an offline migration past its commit point says the VM is being started there', () => {
    showMigration(runningSummary({ mode: 'offline', phase: 'finishing', committed: true }));
    expect(screen.getByText('Past the point of no return: finishing on b — the VM is being started there')).toBeTruthy();
  });

  it('shows the engine’s refusal of a cancel inline, message and hint', async () => {
    const { api } = showMigration(runningSummary(), {
      'migrations.cancel': () =>
        Promise.reject(apiError({ code: 'busy', message: "Migration m1 can no longer be cancelled: vm1's state is already on b", hint: 'It is past the point of no return and is finishing on b.' })),
    });
    fireEvent.click(cancelButton());
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain("Migration m1 can no longer be cancelled: vm1's state is already on b");
    expect(alert.textContent).toContain('It is past the point of no return and is finishing on b.');
    expect(api.calls.filter((c) => c.channel === 'migrations.cancel')).toEqual([{ channel: 'migrations.cancel', input: { id: 'm1' } }]);
  });
});

describe('MigrationView: in doubt', () => {
  it('shows the report’s message, hint and where the VM was found, with Recover now', () => {
    showMigration(inDoubtSummary());
    const notice = screen.getByRole('region', { name: 'Migration in doubt' });
    expect(notice.textContent).toContain('vm1 stays paused on a rather than risk two running copies');
    expect(notice.textContent).toContain('Ferry keeps this migration in its journal and retries it');
    expect(screen.getByLabelText('Where the VM was found').textContent).toBe('VM found on: a — paused; b — did not answer');
    expect(screen.getAllByText('In doubt', { selector: '.badge' }).map((b) => b.className)).toEqual(['badge tone-doubt', 'badge tone-doubt']);
    expect(screen.queryByRole('button', { name: 'Cancel migration' })).toBeNull();
    expect(within(notice).getByRole('button', { name: 'Recover now' })).toBeTruthy();
  });

  it('Recover now calls migrations.recover, waits for it and shows the settled outcome', async () => {
    const answer = deferred<MigrationSummary[]>();
    const settled = runningSummary({ phase: 'completed', committed: true, report: report({ outcome: 'completed' }) });
    const { api, store } = showMigration(inDoubtSummary(), { 'migrations.recover': () => answer.promise });
    fireEvent.click(screen.getByRole('button', { name: 'Recover now' }));
    expect(((await screen.findByRole('button', { name: 'Recovering…' })) as HTMLButtonElement).disabled).toBe(true);
    expect(api.calls.filter((c) => c.channel === 'migrations.recover')).toEqual([{ channel: 'migrations.recover', input: {} }]);
    answer.resolve([settled]);
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Migration in doubt' })).toBeNull());
    expect(store.getState().migrations['m1']?.phase).toBe('completed');
    expect(screen.getByLabelText('Where the VM was found').textContent).toBe('VM found on: b — running; a — not there');
    // The history is read again so it lists the new outcome.
    expect(api.calls.some((c) => c.channel === 'migrations.list')).toBe(true);
  });

  it('shows a recovery failure inline and keeps the in-doubt notice', async () => {
    showMigration(inDoubtSummary(), {
      'migrations.recover': () => Promise.reject(apiError({ code: 'host-unreachable', message: 'Host b did not answer within 10 s', hint: 'Check that b is up.' })),
    });
    fireEvent.click(screen.getByRole('button', { name: 'Recover now' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Recovery failed: Host b did not answer within 10 s');
    expect(alert.textContent).toContain('Check that b is up.');
    expect(screen.getByRole('region', { name: 'Migration in doubt' })).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Recover now' }) as HTMLButtonElement).disabled).toBe(false);
  });
});

describe('MigrationReportView: where the VM was found', () => {
  it('lists each host as it answered, unreachable as "did not answer"', () => {
    render(<MigrationReportView report={report({ outcome: 'failed', error: { code: 'migration-failed', message: 'QEMU on b exited' }, foundOn: [{ host: 'a', state: 'running' }, { host: 'b', state: 'unreachable' }] })} />);
    expect(screen.getByLabelText('Where the VM was found').textContent).toBe('VM found on: a — running; b — did not answer');
    expect(screen.getByRole('alert').textContent).toContain('Failed: QEMU on b exited');
  });

  it('shows the options as given, disk targets as source → destination', () => {
    render(<MigrationReportView report={report({ outcome: 'completed', options: { transport: 'tls', diskTargets: { '/srv/a.raw': '/dev/vg0/web' }, overwriteDevices: ['/dev/vg0/web'] } })} />);
    expect(screen.getByText('transport=tls, diskTargets=/srv/a.raw → /dev/vg0/web, overwriteDevices=/dev/vg0/web')).toBeTruthy();
    cleanup();
    // An empty list is no option given: left out rather than shown as "overwriteDevices=".
    render(<MigrationReportView report={report({ outcome: 'completed', options: { transport: 'tcp', overwriteDevices: [] } })} />);
    expect(screen.getByText('transport=tcp')).toBeTruthy();
  });

  it('claims nothing when a report has no locations', () => {
    expect(foundOnText([])).toBe('not recorded');
    expect(foundOnText(undefined)).toBe('not recorded');
    expect(foundOnText([{ host: 'b', state: 'shutoff' }, { host: 'a', state: 'absent' }])).toBe('b — stopped; a — not there');
  });
});
