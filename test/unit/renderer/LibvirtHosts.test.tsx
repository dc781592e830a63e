// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HostInventory, HostSummary, MigrationSummary, ModeAvailability, PoolSummary, PreflightReport, VmDetails as VmDetailsData, VmSummary, VolumeInfo } from '../../../src-main/core/api/types.js';
import { Sidebar } from '../../../src-renderer/src/components/Sidebar.js';
import { Toolbar } from '../../../src-renderer/src/components/Toolbar.js';
import { AddConnectionDialog } from '../../../src-renderer/src/dialogs/AddConnectionDialog.js';
import { EvacuateDialog } from '../../../src-renderer/src/dialogs/EvacuateDialog.js';
import { MigrateDialog } from '../../../src-renderer/src/dialogs/MigrateDialog.js';
import { StoreProvider } from '../../../src-renderer/src/store/context.js';
import { createFerryStore } from '../../../src-renderer/src/store/store.js';
import { HostDetails } from '../../../src-renderer/src/views/HostDetails.js';
import { StorageTab } from '../../../src-renderer/src/views/StorageTab.js';
import { VmDetails } from '../../../src-renderer/src/views/VmDetails.js';
import { fakeApi, type Handlers } from './fake-api.js';

afterEach(cleanup);

const GiB = 1024 ** 3;
const host = (name: string, hypervisor: HostSummary['hypervisor']): HostSummary => ({
  name,
  transport: 'ssh',
  uri: `qemu+ssh://root@${name}.example/system`,
  address: `${name}.example`,
  autoconnect: true,
  state: 'connected',
  hypervisor,
});
const domain = (state: VmSummary['state'] = 'running'): VmSummary => ({ name: 'web1', host: 'lv1', state, memoryMiB: 512, vcpus: 2, defined: true, managedBy: 'libvirt' });
const inventory = (name: string, vms: VmSummary[]): HostInventory => ({ host: name, vms, pools: [], volumes: {}, error: null, refreshedAt: '2026-12-01T00:00:00Z' });

function domainDetails(state: VmSummary['state'] = 'running', autostart = false): VmDetailsData {
  return {
    ...domain(state),
    qemuStatus: 'running (booted)',
    definition: { name: 'web1', memoryMiB: 512, vcpus: 2, machineType: 'pc-q35-7.2', cpuModel: 'host-passthrough', accel: 'kvm', disks: [{ path: '/var/lib/libvirt/images/web1.qcow2', format: 'qcow2', cache: 'none' }], nic: null, firmware: 'uefi', createdAt: '', autostart },
    qmpSocket: '',
    serialLog: '',
    vncSocket: '',
    diskUsage: [{ path: '/var/lib/libvirt/images/web1.qcow2', virtualSizeBytes: 20 * GiB, allocationBytes: GiB, backingFile: null }],
    libvirt: {
      uuid: '5b7c3e7a-1d2f-4c61-9a3e-2f1f0c9b8a77',
      id: state === 'running' ? 7 : null,
      domainType: 'kvm',
      machineType: 'pc-q35-7.2',
      cpuMode: 'host-passthrough',
      cpuModel: null,
      firmware: 'uefi',
      autostart,
      persistent: true,
      stateText: state === 'running' ? 'running (booted)' : 'paused (user)',
      serialFile: null,
      disks: [
        { device: 'disk', type: 'file', path: '/var/lib/libvirt/images/web1.qcow2', format: 'qcow2', cache: 'none', target: 'vda', bus: 'virtio', readOnly: false, backingPath: null },
        { device: 'cdrom', type: 'file', path: null, format: null, cache: null, target: 'sda', bus: 'sata', readOnly: true, backingPath: null },
      ],
      nics: [{ type: 'network', source: 'default', model: 'virtio', mac: '52:54:00:12:34:56' }],
    },
  };
}

function world(handlers: Handlers, hosts: HostSummary[]) {
  const api = fakeApi({ 'hosts.info': () => new Promise(() => undefined), ...handlers });
  const store = createFerryStore(api);
  for (const h of hosts) store.getState().hostAdded(h);
  return { api, store };
}

describe('Add Connection for a libvirt host', () => {
  it('offers both kinds, shows the libvirt URI and sends hypervisor libvirt', async () => {
    const api = fakeApi({ 'hosts.add': (input) => host(input.name, input.hypervisor ?? 'ferry') });
    const onAdded = vi.fn();
    render(<AddConnectionDialog api={api} existingNames={[]} onAdded={onAdded} onClose={vi.fn()} />);
    const kind = screen.getByLabelText('Hypervisor') as HTMLSelectElement;
    expect([...kind.options].map((o) => o.textContent)).toEqual(['QEMU/KVM (Ferry-managed)', 'libvirt (QEMU/KVM under libvirtd)']);
    expect(kind.value).toBe('ferry');
    fireEvent.change(kind, { target: { value: 'libvirt' } });
    fireEvent.change(screen.getByLabelText('Hostname', { exact: true }), { target: { value: '10.0.0.9' } });
    expect(screen.getByText(/libvirtd on the host runs its domains/)).toBeTruthy();
    expect(screen.getByText('libvirt URI')).toBeTruthy();
    expect(screen.getByLabelText('Connection URI').textContent).toBe('qemu+ssh://root@10.0.0.9/system');
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    await waitFor(() => expect(onAdded).toHaveBeenCalled());
    expect(api.calls[0]?.input).toMatchObject({ transport: 'ssh', address: '10.0.0.9', hypervisor: 'libvirt' });
  });

  it('sends hypervisor ferry for a Ferry-managed host, and no "libvirt URI" label', async () => {
    const api = fakeApi({ 'hosts.add': (input) => host(input.name, 'ferry') });
    const onAdded = vi.fn();
    render(<AddConnectionDialog api={api} existingNames={[]} onAdded={onAdded} onClose={vi.fn()} />);
    fireEvent.change(screen.getByLabelText('Hostname', { exact: true }), { target: { value: 'kvm1' } });
    expect(screen.queryByText('libvirt URI')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    await waitFor(() => expect(onAdded).toHaveBeenCalled());
    expect(api.calls[0]?.input).toMatchObject({ hypervisor: 'ferry' });
  });
});

describe('libvirt hosts in the tree, the host view and the toolbar', () => {
  it('each host in the tree says its kind in text, as its description for screen readers', () => {
    const { store } = world({}, [host('kvm1', 'ferry'), host('lv1', 'libvirt')]);
    render(
      <StoreProvider store={store}>
        <Sidebar />
      </StoreProvider>,
    );
    act(() => store.getState().inventoryChanged('lv1', inventory('lv1', [domain()])));
    const libvirtHost = screen.getByRole('treeitem', { name: 'lv1' });
    const ferryHost = screen.getByRole('treeitem', { name: 'kvm1' });
    const description = (item: HTMLElement) => (item.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent).join(', ');
    expect(description(libvirtHost)).toBe('libvirt, QEMU/KVM – lv1.example');
    expect(description(ferryHost)).toBe('Ferry, QEMU/KVM – kvm1.example');
    expect(within(libvirtHost).getByRole('treeitem', { name: 'web1 Running' })).toBeTruthy();
  });

  it('the host view says the kind, and New VM is not offered on a libvirt host (the reason as its title)', () => {
    const { store } = world({}, [host('lv1', 'libvirt')]);
    render(
      <StoreProvider store={store}>
        <Toolbar link="open" />
        <HostDetails hostName="lv1" />
      </StoreProvider>,
    );
    expect(screen.getByText(/libvirt host: libvirtd on the host runs its domains/)).toBeTruthy();
    act(() => store.getState().inventoryChanged('lv1', inventory('lv1', [])));
    expect(screen.getByText(/No domains on this host yet\. libvirt host: define domains with virsh define/)).toBeTruthy();
    const newVm = screen.getByRole('button', { name: 'New VM' }) as HTMLButtonElement;
    expect(newVm.disabled).toBe(true);
    expect(newVm.title).toMatch(/virsh define or virt-manager/);
  });
});

describe('a libvirt domain in the VM view', () => {
  it('shows the domain XML facts, offers no hardware editing or console, and its lifecycle buttons work', async () => {
    let state: VmSummary['state'] = 'running';
    const { api, store } = world(
      {
        'vms.info': () => domainDetails(state),
        'vms.pause': () => {
          state = 'paused';
          return domainDetails(state);
        },
        'vms.update': (input) => domainDetails(state, input.autostart === true),
      },
      [host('lv1', 'libvirt')],
    );
    act(() => store.getState().inventoryChanged('lv1', inventory('lv1', [domain()])));
    render(
      <StoreProvider store={store}>
        <VmDetails hostName="lv1" vmName="web1" />
      </StoreProvider>,
    );
    expect(await screen.findByText('5b7c3e7a-1d2f-4c61-9a3e-2f1f0c9b8a77')).toBeTruthy();
    for (const text of ['running (booted)', 'kvm (hardware acceleration)', 'pc-q35-7.2', 'host-passthrough', 'UEFI', 'Yes: libvirt keeps its definition', 'virtio on network default (52:54:00:12:34:56)']) {
      expect(screen.getAllByText(text).length).toBeGreaterThan(0);
    }
    const disks = screen.getByRole('table', { name: 'Disks' });
    expect(within(disks).getByText('/var/lib/libvirt/images/web1.qcow2')).toBeTruthy();
    expect(within(disks).getByText('20.0 GiB')).toBeTruthy();
    expect(within(disks).getByText('cdrom, file')).toBeTruthy();
    expect(screen.queryByRole('button', { name: /Edit hardware/ })).toBeNull();
    expect(screen.getByText(/change it with virsh edit or virt-manager/)).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Turn on' }));
    await waitFor(() => expect(api.calls.some((c) => c.channel === 'vms.update')).toBe(true));
    expect(api.calls.find((c) => c.channel === 'vms.update')?.input).toEqual({ host: 'lv1', name: 'web1', autostart: true });
    expect(await screen.findByText('On: libvirtd starts it when the host boots')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: /Pause/ }));
    await waitFor(() => expect(api.calls.some((c) => c.channel === 'vms.pause')).toBe(true));
    expect((await screen.findAllByText(/paused \(user\)/)).length).toBeGreaterThan(0);

    fireEvent.click(screen.getByRole('tab', { name: 'Console' }));
    expect(screen.getByText(/use virsh console \(serial\) or virt-viewer/)).toBeTruthy();
    expect(api.calls.some((c) => c.channel === 'consoles.open')).toBe(false);
  });
});

describe('libvirt pools in the Storage view', () => {
  it('lists pools with libvirt’s type and their volumes, offers New Volume but no pool define/start/stop/delete or volume delete', async () => {
    const pool: PoolSummary = { name: 'default', type: 'dir', path: '/var/lib/libvirt/images', autostart: true, active: true, capacityBytes: 100 * GiB, allocationBytes: 10 * GiB, availableBytes: 90 * GiB, managedBy: 'libvirt', libvirtType: 'dir' };
    const volume: VolumeInfo = { name: 'web1.qcow2', pool: 'default', path: '/var/lib/libvirt/images/web1.qcow2', format: 'qcow2', virtualSizeBytes: 20 * GiB, allocationBytes: GiB, backingChain: [] };
    const { store } = world({ 'pools.list': () => [pool], 'volumes.list': () => [volume] }, [host('lv1', 'libvirt')]);
    render(
      <StoreProvider store={store}>
        <StorageTab hostName="lv1" />
      </StoreProvider>,
    );
    expect(await screen.findByRole('cell', { name: 'web1.qcow2' })).toBeTruthy();
    expect(screen.getByText('libvirt dir pool', { exact: false })).toBeTruthy();
    expect(screen.getByText(/libvirt manages these pools: define, start, stop and delete them with virsh pool-\*/)).toBeTruthy();
    for (const name of ['Add Pool', 'Delete Pool', 'Stop Pool', 'Start Pool', 'Delete volume web1.qcow2']) expect(screen.queryByRole('button', { name })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'New Volume' }));
    expect(store.getState().dialog).toEqual({ kind: 'new-volume', host: 'lv1', pool: 'default' });
  });
});

describe('Migrate dialog for a libvirt domain', () => {
  const modes: ModeAvailability[] = [
    { mode: 'live', possible: true, reason: 'libvirt moves the running domain; its disks must be on storage both hosts see', recommended: false },
    { mode: 'block', possible: true, reason: 'libvirt moves the running domain and copies its disks (--copy-storage-all)', recommended: true },
    { mode: 'offline', possible: true, reason: 'the domain is shut down, its disks copied by Ferry and its definition moved by libvirt', recommended: false },
  ];
  const report: PreflightReport = { ok: true, modes, items: [{ level: 'ok', check: 'libvirt', message: 'This domain is migrated by libvirt: the source host’s libvirtd runs the move.' }, { level: 'ok', check: 'destination', message: 'lv2 can take "web1".' }] };
  const started: MigrationSummary = { id: 'm1', vm: 'web1', from: 'lv1', to: 'lv2', mode: 'block', phase: 'preflight', startedAt: '2026-12-01T10:00:00.000Z', committed: false, report: null };
  const hosts = [host('lv1', 'libvirt'), host('kvm1', 'ferry'), host('lv2', 'libvirt')];

  it('offers only libvirt hosts (others listed with why), says libvirt is in charge, shows the pre-flight and starts without TLS', async () => {
    const api = fakeApi({ 'migrations.modes': () => modes, 'migrations.check': () => report, 'migrations.start': () => started });
    const onStarted = vi.fn();
    render(<MigrateDialog api={api} vm="web1" from="lv1" hosts={hosts} poolsByHost={{}} onStarted={onStarted} onClose={vi.fn()} />);
    const destination = screen.getByLabelText('Destination') as HTMLSelectElement;
    expect(destination.value).toBe('lv2');
    const options = [...destination.options];
    expect(options.find((o) => o.value === 'kvm1')?.disabled).toBe(true);
    expect(options.find((o) => o.value === 'kvm1')?.textContent).toMatch(/not possible: Ferry-managed, and a libvirt domain moves only to a libvirt host/);
    expect(options.find((o) => o.value === 'lv2')?.disabled).toBe(false);
    expect(screen.getByLabelText('Hosts not offered').textContent).toMatch(/kvm1 \(Ferry-managed/);
    expect(screen.getByLabelText('Migrated by libvirt').textContent).toMatch(/migrated by libvirt: the libvirtd on lv1 stays in charge of the move/);
    expect((screen.getByLabelText('Transport') as HTMLSelectElement).disabled).toBe(true);
    expect(screen.getByText(/libvirt sends memory and disks in the clear/)).toBeTruthy();
    const block = (await screen.findByRole('radio', { name: /Live with block copy/ })) as HTMLInputElement;
    expect(block.checked).toBe(true);
    expect(screen.queryByLabelText('Destination pool')).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Check' }));
    const results = await screen.findByRole('region', { name: 'Check results' });
    expect(within(results).getByText('Ready to migrate')).toBeTruthy();
    expect(within(results).getByText(/migrated by libvirt: the source host’s libvirtd runs the move/)).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Start migration' }));
    await waitFor(() => expect(onStarted).toHaveBeenCalledWith(started));
    const sent = api.calls.find((c) => c.channel === 'migrations.start')?.input;
    expect(sent).toMatchObject({ vm: 'web1', from: 'lv1', to: 'lv2', mode: 'block', transport: 'tcp' });
    expect(sent).not.toHaveProperty('destPool');
    expect(sent).not.toHaveProperty('port');
  });

  it('choosing the destination already chosen keeps its modes (they are not asked again)', async () => {
    const api = fakeApi({ 'migrations.modes': () => modes });
    render(<MigrateDialog api={api} vm="web1" from="lv1" hosts={hosts} poolsByHost={{}} onStarted={vi.fn()} onClose={vi.fn()} />);
    await screen.findByRole('radio', { name: /Live with block copy/ });
    fireEvent.change(screen.getByLabelText('Destination'), { target: { value: 'lv2' } });
    expect(screen.getByRole('radio', { name: /Live with block copy/ })).toBeTruthy();
    expect(screen.queryByText('Asking both hosts which modes are possible…')).toBeNull();
  });

  it('a Ferry VM cannot be sent to a libvirt host, and says so; with no other libvirt host there is nothing to choose', () => {
    const api = fakeApi({ 'migrations.modes': () => modes });
    render(<MigrateDialog api={api} vm="vm1" from="kvm1" hosts={hosts} poolsByHost={{}} onStarted={vi.fn()} onClose={vi.fn()} />);
    const destination = screen.getByLabelText('Destination') as HTMLSelectElement;
    expect([...destination.options].every((o) => o.disabled || o.value === '')).toBe(true);
    expect(screen.getByLabelText('Hosts not offered').textContent).toMatch(/lv1 \(a libvirt host, and a Ferry VM moves only to a Ferry-managed host\)/);
    expect(screen.queryByLabelText('Migrated by libvirt')).toBeNull();
    expect(api.calls).toEqual([]);
  });
});

describe('Evacuate dialog on a libvirt host', () => {
  it('offers only libvirt hosts as the destination; Ferry-managed ones are listed, disabled, with why', () => {
    const api = fakeApi({ 'migrations.modes': () => new Promise(() => undefined) });
    const hosts = [host('lv1', 'libvirt'), host('kvm1', 'ferry'), host('lv2', 'libvirt')];
    render(<EvacuateDialog api={api} host="lv1" hosts={hosts} vms={[domain()]} onClose={vi.fn()} />);
    const destination = screen.getByLabelText('Destination') as HTMLSelectElement;
    expect(destination.value).toBe('lv2');
    const kvm1 = [...destination.options].find((o) => o.value === 'kvm1');
    expect(kvm1?.disabled).toBe(true);
    expect(kvm1?.textContent).toMatch(/not possible: Ferry-managed, and a libvirt domain moves only to a libvirt host/);
  });
});
