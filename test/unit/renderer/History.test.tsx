// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { MigrationRecord, MigrationSummary } from '../../../src-main/core/api/types.js';
import { StoreProvider } from '../../../src-renderer/src/store/context.js';
import { createFerryStore } from '../../../src-renderer/src/store/store.js';
import { History } from '../../../src-renderer/src/views/History.js';
import { apiError, deferred, fakeApi, type Handlers } from './fake-api.js';
import { inDoubtSummary, report, runningSummary } from './migration-fixtures.js';

afterEach(cleanup);

const completed = (id: string, vm: string): MigrationSummary => runningSummary({ id, vm, phase: 'completed', committed: true, report: report({ id, vm }) });

function showHistory(handlers: Handlers, selectedId?: string) {
  const api = fakeApi(handlers);
  const store = createFerryStore(api);
  render(
    <StoreProvider store={store}>
      <History selectedId={selectedId} />
    </StoreProvider>,
  );
  return api;
}

const recoverButton = () => screen.getByRole('button', { name: 'Recover' }) as HTMLButtonElement;
const outcomeOf = (vm: string) => within(screen.getByRole('cell', { name: vm }).closest('tr') as HTMLElement).getAllByRole('cell')[3]?.textContent;

describe('History: in-doubt migrations', () => {
  it('shows in-doubt with its own badge and enables Recover only then', async () => {
    const api = showHistory({ 'migrations.list': () => [completed('m2', 'vm2'), inDoubtSummary('m1')] });
    await screen.findByRole('cell', { name: 'vm1' });
    expect(outcomeOf('vm1')).toBe('In doubt');
    expect(screen.getByText('In doubt').className).toBe('badge tone-doubt');
    expect(outcomeOf('vm2')).toBe('Completed');
    // A real, focusable button: reachable with Tab and pressed with Enter or Space.
    expect(recoverButton().tagName).toBe('BUTTON');
    expect(recoverButton().disabled).toBe(false);
    expect(recoverButton().getAttribute('tabindex')).toBeNull();
    expect(api.calls.filter((c) => c.channel === 'migrations.recover')).toEqual([]);
  });

  it('keeps Recover disabled when nothing is in doubt', async () => {
    showHistory({ 'migrations.list': () => [completed('m2', 'vm2')] });
    await screen.findByRole('cell', { name: 'vm2' });
    expect(recoverButton().disabled).toBe(true);
  });

  it('Recover calls migrations.recover, reloads the list and announces the result', async () => {
    let listed: MigrationSummary[] = [inDoubtSummary('m1')];
    const answer = deferred<MigrationSummary[]>();
    const api = showHistory({ 'migrations.list': () => listed, 'migrations.recover': () => answer.promise });
    await screen.findByRole('cell', { name: 'vm1' });
    fireEvent.click(recoverButton());
    const status = screen.getByRole('status');
    expect(status.getAttribute('aria-live')).toBe('polite');
    expect(status.textContent).toBe('Recovering…');
    expect(recoverButton().disabled).toBe(true);
    const settled = completed('m1', 'vm1');
    listed = [settled];
    answer.resolve([settled]);
    // The list is reloaded (the row turns Completed) a moment before the announcement is set: wait for both.
    await waitFor(() => {
      expect(outcomeOf('vm1')).toBe('Completed');
      expect(status.textContent).toBe('Recovery settled 1 of 1 (vm1: completed).');
    });
    expect(api.calls.map((c) => c.channel)).toEqual(['migrations.list', 'migrations.recover', 'migrations.list']);
    expect(recoverButton().disabled).toBe(true);
  });

  it('announces a migration that is still in doubt after recovery', async () => {
    const api = showHistory({ 'migrations.list': () => [inDoubtSummary('m1')], 'migrations.recover': () => [inDoubtSummary('m1')] });
    await screen.findByRole('cell', { name: 'vm1' });
    fireEvent.click(recoverButton());
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('Recovery settled 0 of 1 (vm1: in doubt). 1 still in doubt: see the report for why.'));
    expect(api.calls.filter((c) => c.channel === 'migrations.recover')).toHaveLength(1);
  });

  it('shows a failed recovery inline', async () => {
    showHistory({
      'migrations.list': () => [inDoubtSummary('m1')],
      'migrations.recover': () => Promise.reject(apiError({ code: 'host-unreachable', message: 'Host b did not answer', hint: 'Check that b is up, then press Recover again.' })),
    });
    await screen.findByRole('cell', { name: 'vm1' });
    fireEvent.click(recoverButton());
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Recovery failed: Host b did not answer');
    expect(alert.textContent).toContain('Check that b is up, then press Recover again.');
    expect(recoverButton().disabled).toBe(false);
  });

  it('the selected record shows where the VM was found and the in-doubt message, and is read again after recovery', async () => {
    let listed: MigrationSummary[] = [inDoubtSummary('m1')];
    let record: MigrationRecord = { ...inDoubtSummary('m1'), samples: [] };
    const api = showHistory({ 'migrations.list': () => listed, 'migrations.get': () => record, 'migrations.recover': () => listed }, 'm1');
    const found = await screen.findByLabelText('Where the VM was found');
    expect(found.textContent).toBe('VM found on: a — paused; b — did not answer');
    expect(screen.getByRole('region', { name: 'Migration in doubt' }).textContent).toContain('vm1 stays paused on a');
    const settled = completed('m1', 'vm1');
    listed = [settled];
    record = { ...settled, samples: [] };
    fireEvent.click(recoverButton());
    await waitFor(() => expect(screen.getByLabelText('Where the VM was found').textContent).toBe('VM found on: b — running; a — not there'));
    expect(screen.queryByRole('region', { name: 'Migration in doubt' })).toBeNull();
    expect(api.calls.filter((c) => c.channel === 'migrations.get')).toHaveLength(2);
  });
});
