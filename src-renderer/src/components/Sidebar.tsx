import { useState } from 'react';
import type { HostSummary, MigrationSample } from '../../../src-main/core/api/types';
import { useFerry } from '../store/context';
import { isFinalPhase, type Selection } from '../store/store';
import { StateBadge, StateDot, stateLabel } from './common';
import { percent } from '../util/format';
import { Icon } from './icons';

const same = (a: Selection, b: Selection) => JSON.stringify(a) === JSON.stringify(b);

export function Sidebar() {
  const hosts = useFerry((s) => s.hosts);
  const hostsLoaded = useFerry((s) => s.hostsLoaded);
  const selection = useFerry((s) => s.selection);
  const select = useFerry((s) => s.select);
  const order = useFerry((s) => s.migrationOrder);
  const migrations = useFerry((s) => s.migrations);

  return (
    <nav className="sidebar" aria-label="Connections">
      <div className="sidebar-section-title">Connections</div>
      <ul className="tree" role="tree" aria-label="Connections list">
        {hostsLoaded && hosts.length === 0 ? <li className="tree-empty">No connections yet. Use “Add Connection”.</li> : null}
        {hosts.map((host) => (
          <HostNode key={host.name} host={host} selection={selection} onSelect={select} />
        ))}
      </ul>
      <div className="sidebar-section-title">Migrations</div>
      <ul className="tree" role="tree" aria-label="Migrations list">
        {order.length === 0 ? <li className="tree-empty">None in this session</li> : null}
        {[...order].reverse().map((id) => {
          const m = migrations[id];
          if (!m) return null;
          const sel: Selection = { kind: 'migration', id };
          return (
            <li key={id} role="treeitem" aria-selected={same(selection, sel)} className={`tree-row migration-row${same(selection, sel) ? ' selected' : ''}`} onClick={() => select(sel)}>
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
        <li role="treeitem" aria-selected={selection.kind === 'history'} className={`tree-row${selection.kind === 'history' ? ' selected' : ''}`} onClick={() => select({ kind: 'history' })}>
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

function HostNode({ host, selection, onSelect }: { host: HostSummary; selection: Selection; onSelect(s: Selection): void }) {
  const vms = useFerry((s) => s.vms[host.name]);
  const [open, setOpen] = useState(true);
  const hostSel: Selection = { kind: 'host', host: host.name };
  const hostSelected = (selection.kind === 'host' && selection.host === host.name);
  return (
    <li role="treeitem" aria-expanded={open} aria-selected={hostSelected} aria-label={host.name}>
      <div className={`tree-row host-row${hostSelected ? ' selected' : ''}`} onClick={() => onSelect(hostSel)}>
        <button
          type="button"
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
          <span className="host-name">{host.name}</span>
          <span className="muted small host-uri">{host.transport === 'local' ? 'QEMU/KVM – local' : `QEMU/KVM – ${host.address ?? host.uri}`}</span>
        </span>
        <StateBadge state={host.state} label={host.state === 'disconnected' ? 'Not connected' : undefined} />
      </div>
      {open ? (
        <ul role="group">
          {host.state === 'connected' && vms && vms.length === 0 ? <li className="tree-empty nested">No VMs</li> : null}
          {(vms ?? []).map((vm) => {
            const sel: Selection = { kind: 'vm', host: host.name, vm: vm.name };
            const selected = same(selection, sel);
            return (
              <li key={vm.name} role="treeitem" aria-selected={selected} aria-label={`${vm.name} ${stateLabel(vm.state)}`} className={`tree-row vm-row${selected ? ' selected' : ''}`} onClick={() => onSelect(sel)}>
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
