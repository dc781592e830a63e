import { useEffect, useState } from 'react';
import type { LinkState } from './api/types';
import { Sidebar } from './components/Sidebar';
import { Toolbar } from './components/Toolbar';
import { AddConnectionDialog } from './dialogs/AddConnectionDialog';
import { AddPoolDialog } from './dialogs/AddPoolDialog';
import { DeleteVmDialog } from './dialogs/DeleteVmDialog';
import { EvacuateDialog } from './dialogs/EvacuateDialog';
import { MigrateDialog } from './dialogs/MigrateDialog';
import { NewVmDialog } from './dialogs/NewVmDialog';
import { NewVolumeDialog } from './dialogs/NewVolumeDialog';
import { useFerry, useFerryStore } from './store/context';
import { connectEvents, volumeKey } from './store/store';
import { History } from './views/History';
import { HostDetails } from './views/HostDetails';
import { MigrationView } from './views/MigrationView';
import { VmDetails } from './views/VmDetails';

export function App() {
  const store = useFerryStore();
  const api = useFerry((s) => s.api);
  const selection = useFerry((s) => s.selection);
  const [link, setLink] = useState<LinkState>(api.onLink ? 'connecting' : 'open');

  useEffect(() => {
    const off = connectEvents(store);
    const offLink = api.onLink?.((state) => {
      setLink(state);
      if (state === 'open') void store.getState().loadHosts();
    });
    void store.getState().loadHosts({ autoconnect: true });
    return () => {
      off();
      offLink?.();
    };
  }, [store, api]);

  return (
    <div className="app">
      <Toolbar link={link} />
      <div className="main">
        <Sidebar />
        <main className="content">
          {selection.kind === 'host' ? (
            <HostDetails key={selection.host} hostName={selection.host} />
          ) : selection.kind === 'vm' ? (
            <VmDetails key={`${selection.host}/${selection.vm}`} hostName={selection.host} vmName={selection.vm} />
          ) : selection.kind === 'migration' ? (
            <MigrationView key={selection.id} id={selection.id} />
          ) : selection.kind === 'history' ? (
            <History {...(selection.id ? { selectedId: selection.id } : {})} />
          ) : (
            <Welcome />
          )}
        </main>
      </div>
      <Dialogs />
    </div>
  );
}

function Welcome() {
  const hosts = useFerry((s) => s.hosts);
  const openDialog = useFerry((s) => s.openDialog);
  return (
    <div className="welcome">
      <h1>Move virtual machines between KVM hosts</h1>
      <p className="muted">Add a connection for each hypervisor host (QEMU/KVM over SSH), create storage and VMs, then pick a VM and Migrate. Ferry shows which kinds of migration are possible and charts them live.</p>
      {hosts.length === 0 ? (
        <button type="button" className="primary" onClick={() => openDialog({ kind: 'add-connection' })}>
          Add your first connection
        </button>
      ) : (
        <p className="muted">Select a host or a VM on the left.</p>
      )}
    </div>
  );
}

function Dialogs() {
  const dialog = useFerry((s) => s.dialog);
  const state = useFerryStore();
  const api = useFerry((s) => s.api);
  const hosts = useFerry((s) => s.hosts);
  const pools = useFerry((s) => s.pools);
  const vms = useFerry((s) => s.vms);
  const volumes = useFerry((s) => s.volumes);
  const close = useFerry((s) => s.closeDialog);
  if (!dialog) return null;
  const s = state.getState();

  switch (dialog.kind) {
    case 'add-connection':
      return (
        <AddConnectionDialog
          api={api}
          existingNames={hosts.map((h) => h.name)}
          onClose={close}
          onAdded={(host) => {
            s.hostAdded(host);
            s.select({ kind: 'host', host: host.name });
            close();
          }}
        />
      );
    case 'add-pool':
      return (
        <AddPoolDialog
          api={api}
          host={dialog.host}
          existingNames={(pools[dialog.host] ?? []).map((p) => p.name)}
          onClose={close}
          onCreated={() => {
            void s.loadPools(dialog.host);
            close();
          }}
        />
      );
    case 'new-volume': {
      const pool = (pools[dialog.host] ?? []).find((p) => p.name === dialog.pool);
      if (!pool) return null;
      return (
        <NewVolumeDialog
          api={api}
          host={dialog.host}
          pool={pool}
          existingNames={(volumes[volumeKey(dialog.host, dialog.pool)] ?? []).map((v) => v.name)}
          onClose={close}
          onCreated={() => {
            void s.loadVolumes(dialog.host, dialog.pool);
            void s.loadPools(dialog.host);
            close();
          }}
        />
      );
    }
    case 'new-vm':
      return (
        <NewVmDialog
          api={api}
          host={dialog.host}
          pools={(pools[dialog.host] ?? []).filter((p) => p.active)}
          existingNames={(vms[dialog.host] ?? []).map((v) => v.name)}
          onClose={close}
          onCreated={(vm) => {
            s.vmChanged(vm);
            void s.loadPools(dialog.host);
            s.select({ kind: 'vm', host: dialog.host, vm: vm.name });
            close();
          }}
        />
      );
    case 'migrate':
      return (
        <MigrateDialog
          api={api}
          vm={dialog.vm}
          from={dialog.host}
          hosts={hosts}
          poolsByHost={pools}
          onClose={close}
          onStarted={(summary) => {
            s.trackMigration(summary);
            if (state.getState().dialog?.kind === 'migrate') {
              s.select({ kind: 'migration', id: summary.id });
              close();
            }
          }}
        />
      );
    case 'evacuate':
      return (
        <EvacuateDialog
          api={api}
          host={dialog.host}
          hosts={hosts}
          vms={vms[dialog.host] ?? []}
          onClose={close}
          onFinished={(summary) => {
            void s.loadVms(summary.host);
            void s.loadVms(summary.to);
          }}
        />
      );
    case 'delete-vm': {
      const vm = (vms[dialog.host] ?? []).find((v) => v.name === dialog.vm);
      return (
        <DeleteVmDialog
          api={api}
          host={dialog.host}
          vm={dialog.vm}
          running={vm?.state === 'running' || vm?.state === 'paused'}
          onClose={close}
          onDeleted={() => {
            s.vmRemoved(dialog.host, dialog.vm);
            s.select({ kind: 'host', host: dialog.host });
            close();
          }}
        />
      );
    }
  }
}
