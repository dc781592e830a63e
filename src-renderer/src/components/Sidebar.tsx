import { useId, useRef, useState, type KeyboardEvent } from 'react';
import type { HostSummary, MigrationSample } from '../../../src-main/core/api/types';
import { useFerry } from '../store/context';
import { isFinalPhase, type Selection } from '../store/store';
import { StateBadge, StateDot, stateLabel } from './common';
import { percent } from '../util/format';
import { hypervisorLabel, hypervisorMeaning } from '../util/hypervisor';
import { Icon } from './icons';
import './Sidebar.css';
import './libvirt.css';

const same = (a: Selection, b: Selection) => JSON.stringify(a) === JSON.stringify(b);

export function Sidebar() {
  const hosts = useFerry((s) => s.hosts);
  const hostsLoaded = useFerry((s) => s.hostsLoaded);
  const selection = useFerry((s) => s.selection);
  const select = useFerry((s) => s.select);
  const order = useFerry((s) => s.migrationOrder);
  const migrations = useFerry((s) => s.migrations);
  const navRef = useRef<HTMLElement | null>(null);

  return (
    <nav className="sidebar" aria-label="Connections" ref={navRef} onKeyDown={(event) => navRef.current && treeKeys(event, navRef.current)}>
      <div className="sidebar-section-title">Connections</div>
      <ul className="tree" role="tree" aria-label="Connections list">
        {hostsLoaded && hosts.length === 0 ? <li className="tree-empty">No connections yet. Use “Add Connection”.</li> : null}
        {hosts.map((host, index) => (
          <HostNode key={host.name} host={host} selection={selection} onSelect={select} tabStop={index === 0 && selection.kind !== 'host' && selection.kind !== 'vm'} />
        ))}
      </ul>
      <div className="sidebar-section-title">Migrations</div>
      <ul className="tree" role="tree" aria-label="Migrations list">
        {order.length === 0 ? <li className="tree-empty">None in this session</li> : null}
        {[...order].reverse().map((id, index) => {
          const m = migrations[id];
          if (!m) return null;
          const sel: Selection = { kind: 'migration', id };
          return (
            <li key={id} role="treeitem" tabIndex={same(selection, sel) || (index === 0 && selection.kind !== 'migration') ? 0 : -1} aria-selected={same(selection, sel)} className={`tree-row migration-row${same(selection, sel) ? ' selected' : ''}`} onClick={() => select(sel)}>
              <StateDot state={isFinalPhase(m.phase) ? m.phase : 'connecting'} />
              <span className="tree-label">
                {m.vm}
                <span className="muted small">
                  {' '}
                  {m.from} → {m.to}
                </span>
              </span>
              <MigrationMiniProgress id={id} phase={m.phase} />
            </li>
          );
        })}
      </ul>
      <ul className="tree" role="tree" aria-label="History">
        <li role="treeitem" tabIndex={0} aria-selected={selection.kind === 'history'} className={`tree-row${selection.kind === 'history' ? ' selected' : ''}`} onClick={() => select({ kind: 'history' })}>
          <span className="tree-icon">
            <Icon name="clock" size={14} />
          </span>
          <span className="tree-label">History</span>
        </li>
      </ul>
    </nav>
  );
}

function MigrationMiniProgress({ id, phase }: { id: string; phase: string }) {
  useFerry((s) => s.sampleVersion[id] ?? 0);
  const ring = useFerry((s) => s.samples[id]);
  const last: MigrationSample | undefined = ring?.last();
  if (isFinalPhase(phase)) return <span className="muted small">{stateLabel(phase)}</span>;
  if (!last) return <span className="muted small">{phase}</span>;
  const total = last.ram.totalBytes + last.disks.reduce((a, d) => a + d.totalBytes, 0);
  const done = last.ram.transferredBytes + last.disks.reduce((a, d) => a + d.transferredBytes, 0);
  return (
    <span className="mini-progress" title={`${phase}`}>
      <span style={{ width: `${percent(done, total)}%` }} />
    </span>
  );
}

/** `tabStop`: this host is where Tab enters the tree (nothing in it is selected). */
function HostNode({ host, selection, onSelect, tabStop }: { host: HostSummary; selection: Selection; onSelect(s: Selection): void; tabStop: boolean }) {
  const vms = useFerry((s) => s.vms[host.name]);
  const [open, setOpen] = useState(true);
  const hostSel: Selection = { kind: 'host', host: host.name };
  const hostSelected = (selection.kind === 'host' && selection.host === host.name);
  // The name stays the item's label; the kind and address are its description for screen readers.
  const kindId = useId();
  const uriId = useId();
  return (
    <li role="treeitem" tabIndex={hostSelected || tabStop ? 0 : -1} aria-expanded={open} aria-selected={hostSelected} aria-label={host.name} aria-describedby={`${kindId} ${uriId}`} data-hypervisor={host.hypervisor}>
      <div className={`tree-row host-row${hostSelected ? ' selected' : ''}`} onClick={() => onSelect(hostSel)}>
        <button
          type="button"
          tabIndex={-1}
          data-twisty
          className="twisty"
          aria-label={open ? `Collapse ${host.name}` : `Expand ${host.name}`}
          onClick={(e) => {
            e.stopPropagation();
            setOpen(!open);
          }}
        >
          {open ? '▾' : '▸'}
        </button>
        <span className="tree-label">
          <span className="host-name-line">
            <span className="host-name">{host.name}</span>{' '}
            <span id={kindId} className={`host-kind ${host.hypervisor}`} title={hypervisorMeaning(host.hypervisor)}>
              {hypervisorLabel(host.hypervisor)}
            </span>
          </span>
          <span id={uriId} className="muted small host-uri">{host.transport === 'local' ? 'QEMU/KVM – local' : `QEMU/KVM – ${host.address ?? host.uri}`}</span>
        </span>
        <StateBadge state={host.state} label={host.state === 'disconnected' ? 'Not connected' : undefined} />
      </div>
      {open ? (
        <ul role="group">
          {host.state === 'connected' && !vms ? (
            <li className="tree-empty nested" aria-busy="true">
              Loading VMs…
            </li>
          ) : null}
          {host.state === 'connected' && vms && vms.length === 0 ? <li className="tree-empty nested">No VMs</li> : null}
          {(vms ?? []).map((vm) => {
            const sel: Selection = { kind: 'vm', host: host.name, vm: vm.name };
            const selected = same(selection, sel);
            return (
              <li key={vm.name} role="treeitem" tabIndex={selected ? 0 : -1} aria-selected={selected} aria-label={`${vm.name} ${stateLabel(vm.state)}`} className={`tree-row vm-row${selected ? ' selected' : ''}`} onClick={() => onSelect(sel)}>
                <StateDot state={vm.state} />
                <span className="tree-label">{vm.name}</span>
                <span className="muted small">{stateLabel(vm.state)}</span>
                {vm.problem ? (
                  <span className="tree-problem" role="img" aria-label={`Problem: ${vm.problem}`} title={vm.problem}>
                    ⚠
                  </span>
                ) : null}
              </li>
            );
          })}
        </ul>
      ) : null}
    </li>
  );
}

/**
 * Keyboard for the tree (WAI-ARIA tree pattern): Up/Down move between visible items, Right opens a
 * host or enters it, Left closes it or goes to its host, Home/End, Enter/Space select. Tab enters
 * the tree at the selected item (or the first one).
 */
function treeKeys(event: KeyboardEvent, nav: HTMLElement): void {
  // Visible items: those not inside a collapsed host.
  const items = [...nav.querySelectorAll<HTMLElement>('[role="treeitem"]')].filter((item) => !item.parentElement?.closest('[role="treeitem"][aria-expanded="false"]'));
  const current = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('[role="treeitem"]');
  if (!current || !items.includes(current)) return;
  const index = items.indexOf(current);
  const focus = (item: HTMLElement | undefined) => {
    if (!item) return;
    event.preventDefault();
    item.focus();
  };
  const expanded = current.getAttribute('aria-expanded');
  const twisty = () => current.querySelector<HTMLButtonElement>(':scope > .tree-row [data-twisty]');
  switch (event.key) {
    case 'ArrowDown':
      return focus(items[index + 1]);
    case 'ArrowUp':
      return focus(items[index - 1]);
    case 'Home':
      return focus(items[0]);
    case 'End':
      return focus(items[items.length - 1]);
    case 'ArrowRight':
      if (expanded === 'false') {
        event.preventDefault();
        twisty()?.click();
      } else if (expanded === 'true') focus(current.querySelector<HTMLElement>('[role="group"] [role="treeitem"]') ?? undefined);
      return;
    case 'ArrowLeft':
      if (expanded === 'true') {
        event.preventDefault();
        twisty()?.click();
      } else focus(current.parentElement?.closest<HTMLElement>('[role="treeitem"]') ?? undefined);
      return;
    case 'Enter':
    case ' ':
      event.preventDefault();
      (current.querySelector<HTMLElement>(':scope > .tree-row') ?? current).click();
      return;
    default:
  }
}
