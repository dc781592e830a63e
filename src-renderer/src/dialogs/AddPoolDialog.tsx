import { useMemo, useState } from 'react';
import type { PoolSummary, PoolType } from '../../../src-main/core/api/types';
import type { ChannelInput, FerryApi } from '../api/types';
import { Dialog } from '../components/Dialog';
import { Field, useAction } from '../components/common';
import { poolPathMessage } from '../../../src-main/core/api/pool-path';
import { nameProblem, pathProblem } from '../util/format';

export interface AddPoolDialogProps {
  api: FerryApi;
  host: string;
  existingNames: string[];
  onCreated(pool: PoolSummary): void;
  onClose(): void;
}

const TYPE_HELP: Record<PoolType, string> = {
  dir: 'A directory on this host (local image files).',
  netfs: 'An NFS export mounted at the target path. Use the same target path on every host for live migration.',
  shared: 'A directory that is already shared storage (mounted outside Ferry) at the same path on every host.',
  disk: "The host's block devices and partitions, to use as raw VM disks or migration targets. /dev lists them all; a directory of links to devices lists only those. Ferry never partitions a disk.",
};

/** A disk pool's path is where its devices are named; /dev means every device. */
const DISK_POOL_PATH = '/dev';

export function AddPoolDialog({ api, host, existingNames, onCreated, onClose }: AddPoolDialogProps) {
  const [name, setName] = useState('');
  const [type, setType] = useState<PoolType>('dir');
  const [path, setPath] = useState('');
  const [source, setSource] = useState('');
  const [autostart, setAutostart] = useState(true);
  const [touched, setTouched] = useState(false);
  const { busy, error, run } = useAction();

  const problems = useMemo(() => {
    const p: Record<string, string> = {};
    const n = nameProblem(name, 'Pool');
    if (n) p['name'] = n;
    else if (existingNames.includes(name)) p['name'] = `There is already a pool "${name}" on ${host}`;
    if (!path) p['path'] = 'Target path is required';
    else {
      const pathIssue = pathProblem(path);
      const refused = pathIssue ? null : poolPathMessage(path.replace(/\/+$/, '') || '/', type);
      if (pathIssue) p['path'] = `Target path ${pathIssue}`;
      else if (refused) p['path'] = refused;
    }
    if (type === 'netfs') {
      if (!source.trim()) p['source'] = 'An NFS pool needs the export, e.g. nfs.example:/exports/vms';
      else if (!/^[A-Za-z0-9.:_-]+:\/[A-Za-z0-9_./-]*$/.test(source.trim())) p['source'] = 'Must look like SERVER:/EXPORT';
      else if (source.trim().startsWith('-')) p['source'] = 'Must not start with "-" (mount would read it as an option)';
    }
    return p;
  }, [name, existingNames, host, path, type, source]);
  // Choosing disk fills in /dev when nothing was typed; leaving disk clears it again.
  const chooseType = (next: PoolType) => {
    if (next === 'disk' && path === '') setPath(DISK_POOL_PATH);
    if (next !== 'disk' && type === 'disk' && path === DISK_POOL_PATH) setPath('');
    setType(next);
  };
  const show = (key: string) => (touched ? problems[key] ?? null : null);

  const submit = () => {
    setTouched(true);
    if (Object.keys(problems).length > 0) return;
    const input: ChannelInput<'pools.define'> = { host, pool: name, type, path, autostart };
    if (type === 'netfs') input.source = source.trim();
    void run(async () => onCreated(await api.call('pools.define', input)));
  };

  return (
    <Dialog title={`Add Pool on ${host}`} onClose={onClose} onSubmit={submit} submitLabel="Create Pool" busy={busy} error={error}>
      <div className="form-grid">
        <Field label="Name" error={show('name')}>
          {(id) => <input id={id} value={name} disabled={busy} placeholder="images" onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Type" hint={TYPE_HELP[type]}>
          {(id) => (
            <select id={id} value={type} disabled={busy} onChange={(e) => chooseType(e.target.value as PoolType)}>
              <option value="dir">dir: Filesystem Directory</option>
              <option value="netfs">netfs: Network Exported Directory (NFS)</option>
              <option value="shared">shared: Shared directory</option>
              <option value="disk">disk: Block devices (partitions, disks)</option>
            </select>
          )}
        </Field>
        <Field label="Target Path" error={show('path')}>
          {(id) => <input id={id} value={path} disabled={busy} placeholder={type === 'disk' ? DISK_POOL_PATH : '/var/lib/ferry/images'} onChange={(e) => setPath(e.target.value)} />}
        </Field>
        {type === 'netfs' ? (
          <Field label="Source" error={show('source')}>
            {(id) => <input id={id} value={source} disabled={busy} placeholder="nfs.example:/exports/vms" onChange={(e) => setSource(e.target.value)} />}
          </Field>
        ) : null}
        <label className="check wide">
          <input type="checkbox" checked={autostart} disabled={busy} onChange={(e) => setAutostart(e.target.checked)} />
          Start the pool automatically
        </label>
      </div>
    </Dialog>
  );
}
