// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostInventory, VmSummary } from '../../../src-main/core/api/types.js';
import { Sidebar } from '../../../src-renderer/src/components/Sidebar.js';
import { StoreProvider } from '../../../src-renderer/src/store/context.js';
import { createFerryStore } from '../../../src-renderer/src/store/store.js';
import { HostDetails } from '../../../src-renderer/src/views/HostDetails.js';
import { fakeApi } from './fake-api.js';

afterEach(cleanup);

const vm = (name: string, state: VmSummary['state'] = 'running'): VmSummary => ({ name, host: 'kvm1', state, memoryMiB: 128, vcpus: 1, defined: true });
const inventory = (vms: VmSummary[] | null): HostInventory => ({ host: 'kvm1', vms, pools: [], volumes: {}, error: null, refreshedAt: vms ? '2026-12-01T00:00:00Z' : null });

function world() {
  const store = createFerryStore(fakeApi({ 'hosts.info': () => new Promise(() => undefined) }));
  store.getState().hostAdded({ name: 'kvm1', transport: 'local', uri: 'qemu:///system', autoconnect: true, state: 'connected', hypervisor: 'ferry' });
  return store;
}

describe('live inventory in the views', () => {
  it('the tree says loading until the engine has read the host, then shows what it read, and follows changes', () => {
    const store = world();
    render(
      <StoreProvider store={store}>
        <Sidebar />
      </StoreProvider>,
    );
    act(() => store.getState().inventoryChanged('kvm1', inventory(null)));
    expect(screen.getByText('Loading VMs…')).toBeTruthy();
    expect(screen.queryByText('No VMs')).toBeNull();
    act(() => store.getState().inventoryChanged('kvm1', inventory([])));
    expect(screen.getByText('No VMs')).toBeTruthy();
    act(() => store.getState().inventoryChanged('kvm1', inventory([vm('web1')])));
    expect(screen.getByRole('treeitem', { name: 'web1 Running' })).toBeTruthy();
    act(() => store.getState().inventoryChanged('kvm1', inventory([vm('web1', 'shutoff')])));
    expect(screen.getByRole('treeitem', { name: 'web1 Shut off' })).toBeTruthy();
    // The host dropped: its VMs are no longer shown as if known.
    act(() => store.getState().inventoryChanged('kvm1', null));
    expect(screen.queryByRole('treeitem', { name: /web1/ })).toBeNull();
  });

  it('the tree works with the keyboard: arrows move, Enter selects, Left goes to the host', () => {
    const store = world();
    render(
      <StoreProvider store={store}>
        <Sidebar />
      </StoreProvider>,
    );
    act(() => store.getState().inventoryChanged('kvm1', inventory([vm('web1'), vm('web2')])));
    const host = screen.getByRole('treeitem', { name: 'kvm1' });
    expect(host.tabIndex).toBe(0);
    host.focus();
    fireEvent.keyDown(host, { key: 'ArrowDown' });
    const web1 = screen.getByRole('treeitem', { name: 'web1 Running' });
    expect(document.activeElement).toBe(web1);
    fireEvent.keyDown(web1, { key: 'ArrowDown' });
    const web2 = screen.getByRole('treeitem', { name: 'web2 Running' });
    expect(document.activeElement).toBe(web2);
    fireEvent.keyDown(web2, { key: 'Enter' });
    expect(store.getState().selection).toEqual({ kind: 'vm', host: 'kvm1', vm: 'web2' });
    fireEvent.keyDown(web2, { key: 'ArrowLeft' });
    expect(document.activeElement).toBe(host);
  });

  it("the host's VM table says loading, then its rows open a VM with the keyboard", () => {
    const store = world();
    render(
      <StoreProvider store={store}>
        <HostDetails hostName="kvm1" />
      </StoreProvider>,
    );
    expect(screen.getByText('Loading VMs…')).toBeTruthy();
    expect(screen.queryByText(/No VMs on this host/)).toBeNull();
    act(() => store.getState().inventoryChanged('kvm1', inventory([vm('web1')])));
    const row = screen.getByRole('cell', { name: /web1/ }).closest('tr') as HTMLTableRowElement;
    expect(row.tabIndex).toBe(0);
    row.focus();
    fireEvent.keyDown(row, { key: 'Enter' });
    expect(store.getState().selection).toEqual({ kind: 'vm', host: 'kvm1', vm: 'web1' });
  });
});
