// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { MigrationSummary, PoolSummary, VolumeInfo } from '../../../src-main/core/api/types.js';
import { Toolbar } from '../../../src-renderer/src/components/Toolbar.js';
import { StoreProvider } from '../../../src-renderer/src/store/context.js';
import { createFerryStore } from '../../../src-renderer/src/store/store.js';
import { History } from '../../../src-renderer/src/views/History.js';
import { StorageTab } from '../../../src-renderer/src/views/StorageTab.js';
import { fakeApi } from './fake-api.js';
import { report, runningSummary } from './migration-fixtures.js';

afterEach(cleanup);

const completed = (id: string, vm: string): MigrationSummary => runningSummary({ id, vm, phase: 'completed', committed: true, report: report({ id, vm }) });

describe('History rows with the keyboard', () => {
  it('each row is a tab stop; Enter or Space opens it, the arrows move between rows', async () => {
    const api = fakeApi({ 'migrations.list': () => [completed('m2', 'vm2'), completed('m1', 'vm1')], 'migrations.get': ({ id }) => ({ ...completed(id, `vm${id.slice(1)}`), samples: [] }) });
    const store = createFerryStore(api);
    render(
      <StoreProvider store={store}>
        <History />
      </StoreProvider>,
    );
    const rowOf = async (vm: string) => (await screen.findByRole('cell', { name: vm })).closest('tr') as HTMLTableRowElement;
    const first = await rowOf('vm2');
    const second = await rowOf('vm1');
    expect(first.tabIndex).toBe(0);
    expect(second.tabIndex).toBe(0);
    first.focus();
    fireEvent.keyDown(first, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(second);
    fireEvent.keyDown(second, { key: 'Enter' });
    expect(store.getState().selection).toEqual({ kind: 'history', id: 'm1' });
    fireEvent.keyDown(second, { key: 'ArrowUp' });
    expect(document.activeElement).toBe(first);
    fireEvent.keyDown(first, { key: ' ' });
    expect(store.getState().selection).toEqual({ kind: 'history', id: 'm2' });
  });
});

describe('Toolbar with the keyboard', () => {
  function showToolbar() {
    const store = createFerryStore(fakeApi({}));
    store.getState().hostAdded({ name: 'kvm1', transport: 'local', uri: 'qemu:///system', autoconnect: true, state: 'connected', hypervisor: 'ferry' });
    render(
      <StoreProvider store={store}>
        <Toolbar link="open" />
      </StoreProvider>,
    );
    const toolbar = screen.getByRole('toolbar', { name: 'Main toolbar' });
    const button = (name: string) => within(toolbar).getByRole('button', { name }) as HTMLButtonElement;
    const tabStops = () => within(toolbar).getAllByRole('button').filter((b) => b.tabIndex === 0).map((b) => b.textContent);
    return { store, button, tabStops };
  }

  it('is one tab stop; the arrows, Home and End move over the enabled buttons and wrap', () => {
    const { button, tabStops } = showToolbar();
    expect(tabStops()).toEqual(['Add Connection']);
    button('Add Connection').focus();
    fireEvent.keyDown(button('Add Connection'), { key: 'ArrowRight' });
    expect(document.activeElement).toBe(button('New VM'));
    // Migrate is disabled (no VM selected): skipped.
    fireEvent.keyDown(button('New VM'), { key: 'ArrowRight' });
    expect(document.activeElement).toBe(button('History'));
    fireEvent.keyDown(button('History'), { key: 'ArrowRight' });
    expect(document.activeElement).toBe(button('Add Connection'));
    fireEvent.keyDown(button('Add Connection'), { key: 'ArrowLeft' });
    expect(document.activeElement).toBe(button('History'));
    fireEvent.keyDown(button('History'), { key: 'Home' });
    expect(document.activeElement).toBe(button('Add Connection'));
    fireEvent.keyDown(button('Add Connection'), { key: 'End' });
    expect(document.activeElement).toBe(button('History'));
    // Tab comes back to the button used last.
    expect(tabStops()).toEqual(['History']);
  });

  it('reaches Migrate once a VM is selected', () => {
    const { store, button } = showToolbar();
    act(() => store.getState().select({ kind: 'vm', host: 'kvm1', vm: 'vm1' }));
    button('New VM').focus();
    fireEvent.keyDown(button('New VM'), { key: 'ArrowRight' });
    expect(document.activeElement).toBe(button('Migrate'));
    fireEvent.click(button('Migrate'));
    expect(store.getState().dialog).toEqual({ kind: 'migrate', host: 'kvm1', vm: 'vm1' });
  });
});

describe('Storage pools with the keyboard', () => {
  const GiB = 1024 ** 3;
  const pool = (name: string): PoolSummary => ({ name, type: 'dir', path: `/var/lib/ferry/images/${name}`, autostart: true, active: true, capacityBytes: 100 * GiB, allocationBytes: 10 * GiB, availableBytes: 90 * GiB });

  it('the selected pool is the one tab stop; the arrows choose another and show its volumes', async () => {
    const api = fakeApi({ 'pools.list': () => [pool('images'), pool('fast')], 'volumes.list': ({ pool: name }): VolumeInfo[] => (name === 'fast' ? [{ name: 'f.qcow2', pool: 'fast', path: '/x/f.qcow2', format: 'qcow2', virtualSizeBytes: GiB, allocationBytes: 0, backingChain: [] }] : []) });
    render(
      <StoreProvider store={createFerryStore(api)}>
        <StorageTab hostName="kvm1" />
      </StoreProvider>,
    );
    const list = await screen.findByRole('listbox', { name: 'Storage pools' });
    const option = (name: string) => within(list).getByRole('option', { name: new RegExp(`^${name},`) });
    expect(option('images').tabIndex).toBe(0);
    expect(option('fast').tabIndex).toBe(-1);
    option('images').focus();
    fireEvent.keyDown(option('images'), { key: 'ArrowDown' });
    expect(document.activeElement).toBe(option('fast'));
    expect(option('fast').getAttribute('aria-selected')).toBe('true');
    expect(await screen.findByRole('cell', { name: 'f.qcow2' })).toBeTruthy();
    fireEvent.keyDown(option('fast'), { key: 'Home' });
    expect(document.activeElement).toBe(option('images'));
  });
});
