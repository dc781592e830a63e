// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PoolSummary, VolumeInfo } from '../../../src-main/core/api/types.js';
import { ConfirmDialog } from '../../../src-renderer/src/dialogs/ConfirmDialog.js';
import { StoreProvider } from '../../../src-renderer/src/store/context.js';
import { createFerryStore } from '../../../src-renderer/src/store/store.js';
import { HostDetails } from '../../../src-renderer/src/views/HostDetails.js';
import { StorageTab } from '../../../src-renderer/src/views/StorageTab.js';
import { apiError, deferred, fakeApi, type Handlers } from './fake-api.js';

afterEach(cleanup);

describe('ConfirmDialog', () => {
  it('starts on Cancel, names the action on a danger button, and Cancel runs nothing', () => {
    const action = vi.fn(async () => undefined);
    const onCancel = vi.fn();
    render(
      <ConfirmDialog title="Delete volume a.qcow2?" confirmLabel="Delete volume" action={action} onDone={vi.fn()} onCancel={onCancel}>
        <p>Gone for good.</p>
      </ConfirmDialog>,
    );
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.getByRole('button', { name: 'Delete volume' }).className).toBe('danger');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(action).not.toHaveBeenCalled();
  });

  it('stays open and busy while the action runs, then shows its error inline', async () => {
    const pending = deferred<void>();
    const onDone = vi.fn();
    const onCancel = vi.fn();
    render(
      <ConfirmDialog title="Force off vm1?" confirmLabel="Force Off" action={() => pending.promise} onDone={onDone} onCancel={onCancel}>
        <p>Like pulling the plug.</p>
      </ConfirmDialog>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Force Off' }));
    expect((screen.getByRole('button', { name: 'Force Off' }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole('button', { name: 'Cancel' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(onCancel).not.toHaveBeenCalled();
    pending.reject(apiError({ code: 'ssh', message: 'kvm1 did not answer', hint: 'Check the connection.' }));
    expect(await screen.findByText('kvm1 did not answer')).toBeTruthy();
    expect(screen.getByText('Check the connection.')).toBeTruthy();
    expect(onDone).not.toHaveBeenCalled();
    expect((screen.getByRole('button', { name: 'Force Off' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('calls onDone after the action succeeded', async () => {
    const onDone = vi.fn();
    render(
      <ConfirmDialog title="Delete pool p?" confirmLabel="Delete pool" action={async () => undefined} onDone={onDone} onCancel={vi.fn()}>
        <p>Definition only.</p>
      </ConfirmDialog>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Delete pool' }));
    await waitFor(() => expect(onDone).toHaveBeenCalledTimes(1));
  });
});

const GiB = 1024 ** 3;
const pool: PoolSummary = { name: 'images', type: 'dir', path: '/var/lib/ferry/images', autostart: true, active: true, capacityBytes: 100 * GiB, allocationBytes: 10 * GiB, availableBytes: 90 * GiB };
const volume = (name: string): VolumeInfo => ({ name, pool: 'images', path: `/var/lib/ferry/images/${name}`, format: 'qcow2', virtualSizeBytes: GiB, allocationBytes: GiB / 4, backingChain: [] });

function showStorage(handlers: Handlers) {
  const api = fakeApi(handlers);
  render(
    <StoreProvider store={createFerryStore(api)}>
      <StorageTab hostName="kvm1" />
    </StoreProvider>,
  );
  return api;
}
const deletes = (api: ReturnType<typeof fakeApi>, channel: string) => api.calls.filter((c) => c.channel === channel);

describe('StorageTab asks before deleting', () => {
  it('a volume: nothing is deleted until "Delete volume" is pressed, and the list reloads after', async () => {
    let volumes = [volume('a.qcow2'), volume('b.qcow2')];
    const api = showStorage({
      'pools.list': () => [pool],
      'volumes.list': () => volumes,
      'volumes.delete': ({ name }) => {
        volumes = volumes.filter((v) => v.name !== name);
        return { deleted: name };
      },
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Delete volume a.qcow2' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete volume a.qcow2?' });
    expect(within(dialog).getByText(/cannot be recovered/)).toBeTruthy();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(deletes(api, 'volumes.delete')).toEqual([]);

    fireEvent.click(screen.getByRole('button', { name: 'Delete volume a.qcow2' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete volume' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(deletes(api, 'volumes.delete').map((c) => c.input)).toEqual([{ host: 'kvm1', pool: 'images', name: 'a.qcow2' }]);
    await waitFor(() => expect(screen.queryByRole('cell', { name: 'a.qcow2' })).toBeNull());
    expect(screen.getByRole('cell', { name: 'b.qcow2' })).toBeTruthy();
  });

  it('a pool: confirmed with "Delete pool"; an engine refusal shows in the dialog', async () => {
    const api = showStorage({
      'pools.list': () => [pool],
      'volumes.list': () => [],
      'pools.delete': () => Promise.reject(apiError({ code: 'busy', message: 'Pool "images" on kvm1 is still mounted', hint: 'Stop it first.' })),
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Delete Pool' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete pool images?' });
    expect(deletes(api, 'pools.delete')).toEqual([]);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete pool' }));
    expect(await within(dialog).findByText('Pool "images" on kvm1 is still mounted')).toBeTruthy();
    expect(deletes(api, 'pools.delete').map((c) => c.input)).toEqual([{ host: 'kvm1', pool: 'images' }]);
  });
});

describe('HostDetails asks before removing a connection', () => {
  it('calls hosts.remove only after "Remove connection"', async () => {
    const api = fakeApi({ 'hosts.remove': ({ name }) => ({ removed: name }) });
    const store = createFerryStore(api);
    store.getState().hostAdded({ name: 'kvm1', transport: 'ssh', uri: 'qemu+ssh://root@10.0.0.5/system', autoconnect: false, state: 'disconnected', hypervisor: 'ferry' });
    render(
      <StoreProvider store={store}>
        <HostDetails hostName="kvm1" />
      </StoreProvider>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Remove Connection' }));
    const dialog = screen.getByRole('dialog', { name: 'Remove kvm1?' });
    expect(api.calls.filter((c) => c.channel === 'hosts.remove')).toEqual([]);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Remove connection' }));
    await waitFor(() => expect(store.getState().hosts).toEqual([]));
    expect(api.calls.filter((c) => c.channel === 'hosts.remove').map((c) => c.input)).toEqual([{ name: 'kvm1' }]);
  });
});
