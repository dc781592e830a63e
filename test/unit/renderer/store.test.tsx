// @vitest-environment jsdom
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { MigrationSample, MigrationSummary } from '../../../src-main/core/api/types.js';
import { RingBuffer } from '../../../src-renderer/src/store/ring.js';
import { StoreProvider } from '../../../src-renderer/src/store/context.js';
import { connectEvents, createFerryStore } from '../../../src-renderer/src/store/store.js';
import { MigrationView } from '../../../src-renderer/src/views/MigrationView.js';
import { fakeApi } from './fake-api.js';

afterEach(cleanup);

const sample = (t: number, extra: Partial<MigrationSample> = {}): MigrationSample => ({
  t, phase: 'memory', pass: 1,
  ram: { transferredBytes: t * 1000, remainingBytes: 1e6 - t * 1000, totalBytes: 1e6 },
  disks: [{ device: 'virtio-disk0', path: '/x.qcow2', transferredBytes: t, remainingBytes: 100, totalBytes: 100 + t }],
  throughputBps: 1e6, dirtyRateBps: 2e5, expectedDowntimeMs: 120, timeLeftMs: 4000, throttlePercent: 0, notConverging: null,
  ...extra,
});
const summary: MigrationSummary = { id: 'm1', vm: 'vm1', from: 'a', to: 'b', mode: 'block', phase: 'memory', startedAt: new Date().toISOString(), committed: false, report: null };

describe('RingBuffer', () => {
  it('keeps the newest items only', () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.toArray()).toEqual([3, 4, 5]);
    expect(ring.last()).toBe(5);
    expect(ring.size).toBe(3);
    expect(ring.pushed).toBe(5);
  });
});

describe('store', () => {
  it('routes engine events into slices; samples are bounded per migration', () => {
    const api = fakeApi({});
    const store = createFerryStore(api);
    connectEvents(store);
    store.getState().hostAdded({ name: 'a', transport: 'local', uri: 'qemu:///system', autoconnect: true, state: 'connecting', hypervisor: 'ferry' });
    api.emit({ name: 'host-state', payload: { host: 'a', state: 'lost', reason: 'timeout' } });
    expect(store.getState().hosts[0]).toMatchObject({ state: 'lost', stateReason: 'timeout' });
    api.emit({ name: 'migration-update', payload: summary });
    for (let t = 0; t < 4000; t++) api.emit({ name: 'migration-sample', payload: { id: 'm1', sample: sample(t) } });
    const ring = store.getState().samples['m1'];
    expect(ring?.size).toBe(3600);
    expect(ring?.last()?.t).toBe(3999);
    api.emit({ name: 'migration-update', payload: { ...summary, phase: 'completed' } });
    expect(store.getState().history.map((h) => h.id)).toEqual(['m1']);
  });

  it('MigrationView shows live numbers, the not-converging banner and live controls', () => {
    const api = fakeApi({});
    const store = createFerryStore(api);
    connectEvents(store);
    store.getState().trackMigration(summary);
    render(
      <StoreProvider store={store}>
        <MigrationView id="m1" />
      </StoreProvider>,
    );
    act(() => {
      api.emit({ name: 'migration-sample', payload: { id: 'm1', sample: sample(1000) } });
      api.emit({ name: 'migration-sample', payload: { id: 'm1', sample: sample(2000, { notConverging: 'The guest dirties memory faster than the link sends it' }) } });
    });
    expect(screen.getByRole('alert', { name: 'Not converging' }).textContent).toContain('faster than the link');
    expect(screen.getByRole('button', { name: 'Cancel migration' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Switch to postcopy' })).toBeTruthy();
    expect(screen.getByRole('figure', { name: 'Memory: transferred and remaining' }).getAttribute('data-points')).toBe('2');
    expect(screen.getByRole('figure', { name: 'Disk virtio-disk0: transferred and remaining' })).toBeTruthy();
    expect(screen.getByText('4.0 s')).toBeTruthy();
  });
});

describe('a window opened (or reloaded) while a migration runs', () => {
  it('picks the running migration up with the samples so far, and keeps samples in time order', async () => {
    const running = { id: 'm7', vm: 'web1', from: 'a', to: 'b', mode: 'live', phase: 'memory', startedAt: '2026-12-01T00:00:00Z', committed: false, report: null } satisfies MigrationSummary;
    const api = fakeApi({
      'hosts.list': () => [],
      'inventory.subscribe': () => [],
      'migrations.list': () => [running, { ...running, id: 'm6', phase: 'completed' }],
      'migrations.get': ({ id }) => ({ ...running, id, samples: [sample(1000), sample(2000)] }),
    });
    const store = createFerryStore(api);
    await store.getState().resumeRunningMigrations();
    expect(Object.keys(store.getState().migrations)).toEqual(['m7']);
    expect(store.getState().samples['m7']?.toArray().map((s) => s.t)).toEqual([1000, 2000]);
    // A sample older than the newest one (a stored one read in after live ones arrived) is dropped.
    store.getState().migrationSample({ id: 'm7', sample: sample(1500) });
    store.getState().migrationSample({ id: 'm7', sample: sample(3000) });
    expect(store.getState().samples['m7']?.toArray().map((s) => s.t)).toEqual([1000, 2000, 3000]);
  });
});
