import { useEffect, useId, useState } from 'react';
import type { PoolSummary, PreflightReport, VmDiskUsage, VolumeInfo } from '../../../src-main/core/api/types';
import type { FerryApi } from '../api/types';
import { formatBytes } from '../util/format';
import { deviceChoices, signatureFindings } from './disk-targets';
import './disk-targets.css';

export interface DiskTargetsFieldProps {
  api: FerryApi;
  vm: string;
  from: string;
  to: string;
  destPools: PoolSummary[];
  report: PreflightReport | null;
  /** Source disk path -> destination device; a disk not here keeps the default target. */
  targets: Record<string, string>;
  onTargets(targets: Record<string, string>): void;
  overwrite: string[];
  onOverwrite(devices: string[]): void;
  disabled: boolean;
}

/**
 * Per source disk, an optional destination block device from the destination's disk pools, and
 * for a chosen device with something on it a checkbox that names the device and what is there.
 */
export function DiskTargetsField({ api, vm, from, to, destPools, report, targets, onTargets, overwrite, onOverwrite, disabled }: DiskTargetsFieldProps) {
  const baseId = useId();
  const [disks, setDisks] = useState<VmDiskUsage[] | null>(null);
  const [loaded, setLoaded] = useState<{ to: string; devices: VolumeInfo[] } | null>(null);
  const diskPools = destPools.filter((pool) => pool.type === 'disk' && pool.active).map((pool) => pool.name);
  const poolKey = diskPools.join('\n');

  useEffect(() => {
    let alive = true;
    api.call('vms.info', { host: from, name: vm }).then(
      (details) => alive && setDisks(details.diskUsage),
      // Without the disks there is nothing to choose per disk; the default targets still work.
      () => alive && setDisks([]),
    );
    return () => {
      alive = false;
    };
  }, [api, from, vm]);

  useEffect(() => {
    if (poolKey === '') return;
    let alive = true;
    Promise.all(poolKey.split('\n').map((pool) => api.call('volumes.list', { host: to, pool }).catch(() => [] as VolumeInfo[]))).then((lists) => {
      if (alive) setLoaded({ to, devices: lists.flat() });
    });
    return () => {
      alive = false;
    };
  }, [api, to, poolKey]);

  if (!disks || disks.length === 0) return null;
  const devices = loaded?.to === to ? loaded.devices : null;
  const findings = signatureFindings(report);
  const choose = (disk: string, device: string) => {
    const next = { ...targets };
    if (device === '') delete next[disk];
    else next[disk] = device;
    onTargets(next);
    onOverwrite(overwrite.filter((path) => Object.values(next).includes(path)));
  };

  return (
    <fieldset className="disk-targets" disabled={disabled}>
      <legend>Destination of each disk</legend>
      {diskPools.length === 0 ? <div className="field-hint">To copy a disk onto a block device of {to}, add a disk pool on {to} (Storage tab).</div> : null}
      {disks.map((disk, index) => {
        const choices = deviceChoices(devices ?? [], disk.virtualSizeBytes, formatBytes);
        const chosen = targets[disk.path] ?? '';
        const choice = choices.find((entry) => entry.path === chosen);
        const found = findings.get(chosen) ?? choice?.signature ?? null;
        // Not the path: an adopted VM's disk path may hold a space, which an id must not.
        const id = `${baseId}-disk-${index}`;
        return (
          <div className="field wide" key={disk.path}>
            <label htmlFor={id}>
              Disk {disk.path}
              {disk.virtualSizeBytes !== null ? ` (${formatBytes(disk.virtualSizeBytes)})` : ''}
            </label>
            <div className="field-control">
              <select id={id} value={chosen} disabled={disabled || diskPools.length === 0} onChange={(event) => choose(disk.path, event.target.value)}>
                <option value="">Default: same path on {to}, or the destination pool</option>
                {diskPools.length > 0 && devices === null ? <option disabled>Loading devices…</option> : null}
                {choices.map((entry) => (
                  <option key={entry.path} value={entry.path} disabled={entry.refusal !== null || Object.entries(targets).some(([other, device]) => other !== disk.path && device === entry.path)}>
                    {entry.label}
                  </option>
                ))}
              </select>
              {chosen && found ? (
                <label className="check overwrite-device">
                  <input
                    type="checkbox"
                    checked={overwrite.includes(chosen)}
                    onChange={(event) => onOverwrite(event.target.checked ? [...overwrite, chosen] : overwrite.filter((path) => path !== chosen))}
                  />
                  Overwrite {chosen} on {to}: it carries {found}, which will be destroyed
                </label>
              ) : chosen ? (
                <div className="field-hint">The disk is copied raw onto {chosen}; the Check verifies the device is free and large enough.</div>
              ) : null}
            </div>
          </div>
        );
      })}
    </fieldset>
  );
}
