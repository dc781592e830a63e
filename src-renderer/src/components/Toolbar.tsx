import { useState, type KeyboardEvent } from 'react';
import type { LinkState } from '../api/types';
import { useFerry } from '../store/context';
import { Icon } from './icons';
import { LIBVIRT_INSTEAD } from '../util/hypervisor';

type ToolId = 'add-connection' | 'new-vm' | 'migrate' | 'history';
const TOOL_ORDER: ToolId[] = ['add-connection', 'new-vm', 'migrate', 'history'];

/**
 * The main toolbar is one tab stop (WAI-ARIA toolbar): the left and right arrows, Home and End move
 * between its enabled buttons, and Tab leaves it. It remembers the last button used.
 */
export function Toolbar({ link }: { link: LinkState }) {
  const selection = useFerry((s) => s.selection);
  const hosts = useFerry((s) => s.hosts);
  const openDialog = useFerry((s) => s.openDialog);
  const select = useFerry((s) => s.select);
  const hostName = selection.kind === 'host' || selection.kind === 'vm' ? selection.host : hosts.find((h) => h.state === 'connected')?.name;
  const host = hosts.find((h) => h.name === hostName);
  const canNewVm = host !== undefined && host.state === 'connected' && host.hypervisor !== 'libvirt';
  const vm = selection.kind === 'vm' ? selection : null;
  const enabled: Record<ToolId, boolean> = { 'add-connection': true, 'new-vm': canNewVm, migrate: vm !== null, history: true };
  const [remembered, setRemembered] = useState<ToolId>('add-connection');
  const tabStop = enabled[remembered] ? remembered : 'add-connection';

  const tool = (id: ToolId) => ({
    'data-tool': id,
    tabIndex: id === tabStop ? 0 : -1,
    disabled: !enabled[id],
    onFocus: () => setRemembered(id),
  });

  const move = (event: KeyboardEvent<HTMLElement>) => {
    const usable = TOOL_ORDER.filter((id) => enabled[id]);
    const buttonOf = (id: ToolId) => event.currentTarget.querySelector<HTMLButtonElement>(`button[data-tool="${id}"]`);
    const at = usable.findIndex((id) => buttonOf(id) === document.activeElement);
    if (at < 0) return;
    const last = usable.length - 1;
    const target =
      event.key === 'ArrowRight' ? (at === last ? 0 : at + 1) : event.key === 'ArrowLeft' ? (at === 0 ? last : at - 1) : event.key === 'Home' ? 0 : event.key === 'End' ? last : -1;
    const id = usable[target];
    if (id === undefined) return;
    event.preventDefault();
    buttonOf(id)?.focus();
  };

  return (
    <header className="toolbar" role="toolbar" aria-label="Main toolbar" onKeyDown={move}>
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          <Icon name="ship" size={17} />
        </span>
        Ferry
      </div>
      <button type="button" {...tool('add-connection')} onClick={() => openDialog({ kind: 'add-connection' })}>
        <Icon name="plus" />
        Add Connection
      </button>
      <button type="button" {...tool('new-vm')} title={canNewVm ? `Create a VM on ${hostName}` : host?.hypervisor === 'libvirt' ? LIBVIRT_INSTEAD.newVm : 'Select a connected host first'} onClick={() => hostName && openDialog({ kind: 'new-vm', host: hostName })}>
        <Icon name="vm" />
        New VM
      </button>
      <button type="button" {...tool('migrate')} title={vm ? `Migrate ${vm.vm}` : 'Select a VM first'} onClick={() => vm && openDialog({ kind: 'migrate', host: vm.host, vm: vm.vm })}>
        <Icon name="migrate" />
        Migrate
      </button>
      <div className="toolbar-spacer" />
      <button type="button" className="ghost" {...tool('history')} onClick={() => select({ kind: 'history' })}>
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
