import { useMemo, useState } from 'react';
import type { PoolSummary, VolumeInfo } from '../../../src-main/core/api/types';
import type { ChannelInput, FerryApi } from '../api/types';
import { Dialog } from '../components/Dialog';
import { Field, UsageBar, useAction } from '../components/common';
import { formatBytes, nameProblem, parseSizeText, pathProblem } from '../util/format';

export interface NewVolumeDialogProps {
  api: FerryApi;
  host: string;
  pool: PoolSummary;
  existingNames: string[];
  onCreated(volume: VolumeInfo): void;
  onClose(): void;
}

type Allocation = 'off' | 'metadata' | 'falloc' | 'full';

export function NewVolumeDialog({ api, host, pool, existingNames, onCreated, onClose }: NewVolumeDialogProps) {
  const [name, setName] = useState('');
  const [format, setFormat] = useState<'qcow2' | 'raw'>('qcow2');
  const [capacity, setCapacity] = useState('10G');
  const [allocation, setAllocation] = useState<Allocation>('off');
  const [backing, setBacking] = useState('');
  const [backingFormat, setBackingFormat] = useState<'qcow2' | 'raw'>('qcow2');
  const [touched, setTouched] = useState(false);
  const { busy, error, run } = useAction();

  const capacityBytes = parseSizeText(capacity);
  const fullyAllocated = allocation === 'falloc' || allocation === 'full';
  const problems = useMemo(() => {
    const p: Record<string, string> = {};
    const n = nameProblem(name, 'Volume');
    if (n) p['name'] = n;
    else if (existingNames.includes(name)) p['name'] = `There is already a volume "${name}" in ${pool.name}`;
    if (capacityBytes === null) p['capacity'] = 'Use a size such as 10G, 512M or 1.5GiB';
    else if (fullyAllocated && capacityBytes > pool.availableBytes) p['capacity'] = `Only ${formatBytes(pool.availableBytes)} free in ${pool.name}; a fully allocated volume needs ${formatBytes(capacityBytes)}`;
    if (backing) {
      const issue = pathProblem(backing);
      if (issue) p['backing'] = `Backing store ${issue}`;
      if (format !== 'qcow2') p['backing'] = 'Only qcow2 volumes can have a backing store';
    }
    return p;
  }, [name, existingNames, pool, capacityBytes, fullyAllocated, backing, format]);
  const show = (key: string) => (touched ? problems[key] ?? null : null);
  const overcommit = capacityBytes !== null && !fullyAllocated && capacityBytes > pool.availableBytes;

  const submit = () => {
    setTouched(true);
    if (Object.keys(problems).length > 0 || capacityBytes === null) return;
    const input: ChannelInput<'volumes.create'> = { host, pool: pool.name, name, format, capacity: capacityBytes, preallocation: allocation };
    if (backing) {
      input.backing = backing;
      input.backingFormat = backingFormat;
    }
    void run(async () => onCreated(await api.call('volumes.create', input)));
  };

  const freeText = `${formatBytes(pool.availableBytes)} free of ${formatBytes(pool.capacityBytes)}`;
  return (
    <Dialog title={`New Volume in ${pool.name}`} onClose={onClose} onSubmit={submit} submitLabel="Create Volume" busy={busy} error={error}>
      <div className="pool-free" aria-label="Pool free space">
        <div className="pool-free-text">
          <span>
            Pool <strong>{pool.name}</strong> ({pool.type}) at <code>{pool.path}</code>
          </span>
          <span>{freeText}</span>
        </div>
        <UsageBar used={pool.allocationBytes} total={pool.capacityBytes} label={`${pool.name} usage`} />
      </div>
      <div className="form-grid">
        <Field label="Name" error={show('name')}>
          {(id) => <input id={id} value={name} disabled={busy} placeholder="disk0.qcow2" onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Format">
          {(id) => (
            <select id={id} value={format} disabled={busy} onChange={(e) => setFormat(e.target.value as 'qcow2' | 'raw')}>
              <option value="qcow2">qcow2</option>
              <option value="raw">raw</option>
            </select>
          )}
        </Field>
        <Field label="Capacity" error={show('capacity')} hint={overcommit ? `More than the ${formatBytes(pool.availableBytes)} free: fine while thin, but the pool can fill up` : capacityBytes !== null ? formatBytes(capacityBytes) : undefined}>
          {(id) => <input id={id} value={capacity} disabled={busy} onChange={(e) => setCapacity(e.target.value)} />}
        </Field>
        <Field label="Allocation" hint={allocation === 'off' ? 'Thin: space is used as the guest writes' : allocation === 'metadata' ? 'qcow2 metadata preallocated' : 'All space reserved now'}>
          {(id) => (
            <select id={id} value={allocation} disabled={busy} onChange={(e) => setAllocation(e.target.value as Allocation)}>
              <option value="off">None (thin)</option>
              <option value="metadata">Metadata</option>
              <option value="falloc">Full (fallocate)</option>
              <option value="full">Full (write zeros)</option>
            </select>
          )}
        </Field>
        <Field label="Backing store" error={show('backing')} hint="Optional: a base image this volume records only changes against">
          {(id) => <input id={id} value={backing} disabled={busy || format !== 'qcow2'} placeholder="/var/lib/ferry/images/base.qcow2" onChange={(e) => setBacking(e.target.value)} />}
        </Field>
        {backing ? (
          <Field label="Backing format">
            {(id) => (
              <select id={id} value={backingFormat} disabled={busy} onChange={(e) => setBackingFormat(e.target.value as 'qcow2' | 'raw')}>
                <option value="qcow2">qcow2</option>
                <option value="raw">raw</option>
              </select>
            )}
          </Field>
        ) : null}
      </div>
    </Dialog>
  );
}
