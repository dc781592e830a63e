import type { LinkState } from '../api/types';
import { useFerry } from '../store/context';
import { Icon } from './icons';

export function Toolbar({ link }: { link: LinkState }) {
  const selection = useFerry((s) => s.selection);
  const hosts = useFerry((s) => s.hosts);
  const openDialog = useFerry((s) => s.openDialog);
  const select = useFerry((s) => s.select);
  const hostName = selection.kind === 'host' || selection.kind === 'vm' ? selection.host : hosts.find((h) => h.state === 'connected')?.name;
  const host = hosts.find((h) => h.name === hostName);
  const canNewVm = host !== undefined && host.state === 'connected';
  const vm = selection.kind === 'vm' ? selection : null;

  return (
    <header className="toolbar" role="toolbar" aria-label="Main toolbar">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          <Icon name="ship" size={17} />
        </span>
        Ferry
      </div>
      <button type="button" onClick={() => openDialog({ kind: 'add-connection' })}>
        <Icon name="plus" />
        Add Connection
      </button>
      <button type="button" disabled={!canNewVm} title={canNewVm ? `Create a VM on ${hostName}` : 'Select a connected host first'} onClick={() => hostName && openDialog({ kind: 'new-vm', host: hostName })}>
        <Icon name="vm" />
        New VM
      </button>
      <button type="button" disabled={!vm} title={vm ? `Migrate ${vm.vm}` : 'Select a VM first'} onClick={() => vm && openDialog({ kind: 'migrate', host: vm.host, vm: vm.vm })}>
        <Icon name="migrate" />
        Migrate
      </button>
      <div className="toolbar-spacer" />
      <button type="button" className="ghost" onClick={() => select({ kind: 'history' })}>
        <Icon name="clock" />
        History
      </button>
      {link !== 'open' ? (
        <span className={`badge tone-${link === 'closed' ? 'bad' : 'busy'}`} role="status">
          {link === 'closed' ? 'Server disconnected' : 'Connecting…'}
        </span>
      ) : null}
    </header>
  );
}
