import { useEffect, useState, type KeyboardEvent } from 'react';
import { useFerry } from '../store/context';
import { volumeKey } from '../store/store';
import { ErrorBox, StateBadge, UsageBar, useAction } from '../components/common';
import { formatBytes } from '../util/format';
import { ConfirmDialog } from '../dialogs/ConfirmDialog';
import { DeviceTable } from './DeviceTable';
import { LIBVIRT_INSTEAD } from '../util/hypervisor';

type Confirming = { kind: 'pool'; pool: string } | { kind: 'volume'; pool: string; volume: string } | null;

export function StorageTab({ hostName }: { hostName: string }) {
  const pools = useFerry((s) => s.pools[hostName]);
  const poolError = useFerry((s) => s.poolErrors[hostName]);
  const loadPools = useFerry((s) => s.loadPools);
  const loadVolumes = useFerry((s) => s.loadVolumes);
  const openDialog = useFerry((s) => s.openDialog);
  const api = useFerry((s) => s.api);
  // libvirt keeps its pools: Ferry lists them and makes volumes, the rest is virsh's.
  const libvirt = useFerry((s) => s.hosts.find((h) => h.name === hostName)?.hypervisor === 'libvirt');
  const [selected, setSelected] = useState<string | null>(null);
  const poolName = selected && pools?.some((p) => p.name === selected) ? selected : pools?.[0]?.name ?? null;
  const pool = pools?.find((p) => p.name === poolName);
  const volumes = useFerry((s) => (poolName ? s.volumes[volumeKey(hostName, poolName)] : undefined));
  const volumeError = useFerry((s) => (poolName ? s.volumeErrors[volumeKey(hostName, poolName)] : undefined));
  const action = useAction();
  const [confirming, setConfirming] = useState<Confirming>(null);

  useEffect(() => {
    void loadPools(hostName);
  }, [hostName, loadPools]);
  useEffect(() => {
    if (poolName && pool?.active) void loadVolumes(hostName, poolName);
  }, [hostName, poolName, pool?.active, loadVolumes]);

  const poolAction = (kind: 'start' | 'stop') =>
    void action.run(async () => {
      if (!poolName) return;
      if (kind === 'start') await api.call('pools.start', { host: hostName, pool: poolName });
      if (kind === 'stop') await api.call('pools.stop', { host: hostName, pool: poolName });
      await loadPools(hostName);
    });
  // Deletes run inside the confirmation, which shows their errors; the lists reload after.
  const deletePool = async (pool: string) => {
    await api.call('pools.delete', { host: hostName, pool });
    await loadPools(hostName);
  };
  const deleteVolume = async (pool: string, name: string) => {
    await api.call('volumes.delete', { host: hostName, pool, name });
    await Promise.all([loadVolumes(hostName, pool), loadPools(hostName)]);
  };

  return (
    <div className="storage">
      <div className="storage-pools">
        <div className="pane-header">
          <h3>Storage pools</h3>
          {libvirt ? null : (
            <button type="button" onClick={() => openDialog({ kind: 'add-pool', host: hostName })}>
              Add Pool
            </button>
          )}
        </div>
        {libvirt ? <p className="muted small">{LIBVIRT_INSTEAD.pools}</p> : null}
        <ErrorBox error={poolError} />
        {!pools && !poolError ? (
          <div className="pool-list muted pad" aria-busy="true">
            Loading pools…
          </div>
        ) : null}
        {pools && pools.length === 0 ? <div className="pool-list muted pad">No pools yet. Add one to hold disk images.</div> : null}
        {/* A listbox: one tab stop (the selected pool); the arrows, Home and End choose another. */}
        <ul className="pool-list" role="listbox" aria-label="Storage pools" hidden={!pools || pools.length === 0} onKeyDown={(event) => choosePoolByKey(event, pools?.map((p) => p.name) ?? [], poolName, setSelected)}>
          {(pools ?? []).map((p) => (
            <li
              key={p.name}
              role="option"
              tabIndex={p.name === poolName ? 0 : -1}
              data-pool={p.name}
              aria-selected={p.name === poolName}
              aria-label={`${p.name}, ${p.type}, ${p.active ? 'active' : 'inactive'}${p.type === 'disk' ? ', block devices' : `, ${formatBytes(p.availableBytes)} free`}`}
              className={`pool-item${p.name === poolName ? ' selected' : ''}`}
              onClick={() => setSelected(p.name)}
            >
              <div className="pool-line">
                <strong>{p.name}</strong>
                <span className="muted small">{p.libvirtType ? `libvirt ${p.libvirtType}` : p.type}</span>
                <StateBadge state={p.active ? 'active' : 'inactive'} />
              </div>
              {p.problem ? <div className="warning-box danger small">{p.problem}</div> : p.type === 'disk' ? null : <UsageBar used={p.allocationBytes} total={p.capacityBytes} label={`${p.name} usage`} />}
              <div className="muted small">{p.type === 'disk' ? `Block devices in ${p.path}` : `${formatBytes(p.availableBytes)} free of ${formatBytes(p.capacityBytes)}`}</div>
            </li>
          ))}
        </ul>
      </div>
      <div className="storage-volumes">
        {pool ? (
          <>
            <div className="pane-header">
              <div>
                <h3>
                  {pool.name} <span className="muted small mono">{pool.path}</span>
                </h3>
                <div className="muted small">
                  {pool.libvirtType ? `libvirt ${pool.libvirtType} pool` : pool.type}
                  {pool.source ? ` from ${pool.source}` : ''}
                  {pool.type === 'disk' ? ' · block devices, listed as the host sees them' : ` · ${formatBytes(pool.allocationBytes)} used · ${formatBytes(pool.availableBytes)} free`} · autostart {pool.autostart ? 'on' : 'off'}
                </div>
              </div>
              <div className="header-actions">
                {libvirt ? null : pool.active ? (
                  <button type="button" disabled={action.busy} onClick={() => poolAction('stop')}>
                    Stop Pool
                  </button>
                ) : (
                  <button type="button" disabled={action.busy} onClick={() => poolAction('start')}>
                    Start Pool
                  </button>
                )}
                {libvirt ? null : (
                  <button type="button" disabled={action.busy} onClick={() => setConfirming({ kind: 'pool', pool: pool.name })}>
                    Delete Pool
                  </button>
                )}
                {pool.type === 'disk' ? null : (
                  <button type="button" className="primary" disabled={!pool.active} onClick={() => openDialog({ kind: 'new-volume', host: hostName, pool: pool.name })}>
                    New Volume
                  </button>
                )}
              </div>
            </div>
            <ErrorBox error={action.error} />
            <ErrorBox error={volumeError} />
            {libvirt ? <p className="muted small">{LIBVIRT_INSTEAD.deleteVolume}</p> : null}
            {pool.type === 'disk' ? <DeviceTable devices={volumes} /> : (
            <table className="grid" aria-label="Volumes">
              <thead>
                <tr>
                  <th>Volume</th>
                  <th>Format</th>
                  <th>Capacity</th>
                  <th>Allocation</th>
                  <th>Backing store</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {volumes && volumes.length === 0 ? (
                  <tr>
                    <td colSpan={6} className="muted">
                      No volumes in this pool.
                    </td>
                  </tr>
                ) : null}
                {(volumes ?? []).map((v) => (
                  <tr key={v.name}>
                    <td title={v.path}>{v.name}</td>
                    <td>{v.format}</td>
                    <td>{formatBytes(v.virtualSizeBytes)}</td>
                    <td>{formatBytes(v.allocationBytes)}</td>
                    <td className="mono small">{v.backingChain[0]?.path ?? '—'}</td>
                    <td className="row-actions">
                      {libvirt ? null : (
                        <button type="button" className="ghost small" aria-label={`Delete volume ${v.name}`} disabled={action.busy} onClick={() => poolName && setConfirming({ kind: 'volume', pool: poolName, volume: v.name })}>
                          Delete
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            )}
          </>
        ) : (
          <div className="empty-state">Select or add a pool.</div>
        )}
      </div>
      {confirming?.kind === 'pool' ? (
        <ConfirmDialog title={`Delete pool ${confirming.pool}?`} confirmLabel="Delete pool" action={() => deletePool(confirming.pool)} onDone={() => setConfirming(null)} onCancel={() => setConfirming(null)}>
          <p>
            This removes the definition of the storage pool <strong>{confirming.pool}</strong> from {hostName}. Its volumes stay on disk, but Ferry no longer lists them until you add the pool again.
          </p>
        </ConfirmDialog>
      ) : null}
      {confirming?.kind === 'volume' ? (
        <ConfirmDialog
          title={`Delete volume ${confirming.volume}?`}
          confirmLabel="Delete volume"
          action={() => deleteVolume(confirming.pool, confirming.volume)}
          onDone={() => setConfirming(null)}
          onCancel={() => setConfirming(null)}
        >
          <p>
            This deletes the disk image <strong>{confirming.volume}</strong> from pool {confirming.pool} on {hostName}. Its contents are lost and cannot be recovered.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

function choosePoolByKey(event: KeyboardEvent<HTMLUListElement>, names: string[], current: string | null, choose: (name: string) => void): void {
  const at = current ? names.indexOf(current) : -1;
  const last = names.length - 1;
  const target = event.key === 'ArrowDown' ? Math.min(at + 1, last) : event.key === 'ArrowUp' ? Math.max(at - 1, 0) : event.key === 'Home' ? 0 : event.key === 'End' ? last : -1;
  const name = names[target];
  if (name === undefined) return;
  event.preventDefault();
  choose(name);
  const option = [...event.currentTarget.children].find((el): el is HTMLElement => el instanceof HTMLElement && el.dataset['pool'] === name);
  option?.focus();
}
