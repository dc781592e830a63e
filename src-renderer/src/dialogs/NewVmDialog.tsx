import { useEffect, useMemo, useState } from 'react';
import type { PoolSummary, VmDetails, VolumeInfo } from '../../../src-main/core/api/types';
import type { ChannelInput, FerryApi } from '../api/types';
import { Dialog } from '../components/Dialog';
import { Field, useAction } from '../components/common';
import { sensitivePathMessage } from '../../../src-main/core/api/path-rules';
import { formatBytes, nameProblem, parseSizeText, pathProblem } from '../util/format';

export interface NewVmDialogProps {
  api: FerryApi;
  host: string;
  pools: PoolSummary[];
  existingNames: string[];
  onCreated(vm: VmDetails, started: boolean): void;
  onClose(): void;
}

type DiskChoice = 'none' | 'existing' | 'new';

export function NewVmDialog({ api, host, pools, existingNames, onCreated, onClose }: NewVmDialogProps) {
  const [name, setName] = useState('');
  const [memory, setMemory] = useState('512');
  const [vcpus, setVcpus] = useState('1');
  const [diskChoice, setDiskChoice] = useState<DiskChoice>(pools.length > 0 ? 'new' : 'none');
  const [pool, setPool] = useState(pools.find((p) => p.active)?.name ?? pools[0]?.name ?? '');
  const [volumes, setVolumes] = useState<VolumeInfo[] | null>(null);
  const [volumePath, setVolumePath] = useState('');
  const [newVolumeName, setNewVolumeName] = useState('');
  const [newVolumeSize, setNewVolumeSize] = useState('10G');
  const [newVolumeFormat, setNewVolumeFormat] = useState<'qcow2' | 'raw'>('qcow2');
  const [kernelBoot, setKernelBoot] = useState(false);
  const [kernel, setKernel] = useState('');
  const [initrd, setInitrd] = useState('');
  const [append, setAppend] = useState('console=ttyS0');
  const [startAfter, setStartAfter] = useState(false);
  const [touched, setTouched] = useState(false);
  const { busy, error, run } = useAction();

  useEffect(() => {
    if (diskChoice !== 'existing' || !pool) return;
    let alive = true;
    api.call('volumes.list', { host, pool }).then(
      (list) => {
        if (!alive) return;
        setVolumes(list);
        setVolumePath((current) => (current && list.some((v) => v.path === current) ? current : list[0]?.path ?? ''));
      },
      () => alive && setVolumes([]),
    );
    return () => {
      alive = false;
    };
  }, [api, host, pool, diskChoice]);

  const problems = useMemo(() => {
    const p: Record<string, string> = {};
    const n = nameProblem(name, 'VM');
    if (n) p['name'] = n;
    else if (existingNames.includes(name)) p['name'] = `There is already a VM "${name}" on ${host}`;
    const mem = Number(memory);
    if (!/^\d+$/.test(memory) || mem < 16 || mem > 4 * 1024 * 1024) p['memory'] = 'Memory must be a whole number of MiB, at least 16';
    const cpus = Number(vcpus);
    if (!/^\d+$/.test(vcpus) || cpus < 1 || cpus > 512) p['vcpus'] = 'vCPUs must be from 1 to 512';
    if (diskChoice !== 'none' && !pool) p['pool'] = 'Choose a storage pool (add one on the host’s Storage tab)';
    if (diskChoice === 'existing' && !volumePath) p['volume'] = 'Choose a volume';
    if (diskChoice === 'new') {
      const vn = nameProblem(newVolumeName || `${name}.${newVolumeFormat}`, 'Volume');
      if (vn) p['newVolumeName'] = vn;
      if (parseSizeText(newVolumeSize) === null) p['newVolumeSize'] = 'Use a size such as 10G or 512M';
    }
    if (kernelBoot) {
      const k = kernel ? pathProblem(kernel) : 'is required for direct kernel boot';
      const kernelRefused = k ? null : sensitivePathMessage(kernel, 'kernel');
      if (k) p['kernel'] = `Kernel path ${k}`;
      else if (kernelRefused) p['kernel'] = kernelRefused;
      if (initrd) {
        const i = pathProblem(initrd);
        const initrdRefused = i ? null : sensitivePathMessage(initrd, 'kernel');
        if (i) p['initrd'] = `Initrd path ${i}`;
        else if (initrdRefused) p['initrd'] = initrdRefused;
      }
      if (!/^[A-Za-z0-9 ._,:=/+@-]*$/.test(append)) p['append'] = 'Kernel arguments may use letters, digits, spaces and . _ , : = / + @ - only';
    }
    if (diskChoice === 'none' && !kernelBoot) p['boot'] = 'The VM needs a disk or a kernel to boot';
    return p;
  }, [name, existingNames, host, memory, vcpus, diskChoice, pool, volumePath, newVolumeName, newVolumeFormat, newVolumeSize, kernelBoot, kernel, initrd, append]);
  const show = (key: string) => (touched ? problems[key] ?? null : null);
  const selectedPool = pools.find((p) => p.name === pool);

  const submit = () => {
    setTouched(true);
    if (Object.keys(problems).length > 0) return;
    void run(async () => {
      let diskPath: string | null = null;
      let diskFormat: 'qcow2' | 'raw' | undefined;
      if (diskChoice === 'existing') {
        diskPath = volumePath;
        const chosen = volumes?.find((v) => v.path === volumePath);
        if (chosen?.format === 'qcow2' || chosen?.format === 'raw') diskFormat = chosen.format;
      } else if (diskChoice === 'new') {
        const created = await api.call('volumes.create', {
          host,
          pool,
          name: newVolumeName || `${name}.${newVolumeFormat}`,
          format: newVolumeFormat,
          capacity: parseSizeText(newVolumeSize) ?? newVolumeSize,
        });
        diskPath = created.path;
        diskFormat = newVolumeFormat;
      }
      const input: ChannelInput<'vms.define'> = {
        host,
        name,
        memoryMiB: Number(memory),
        vcpus: Number(vcpus),
        disks: diskPath ? [{ path: diskPath, ...(diskFormat ? { format: diskFormat } : {}) }] : [],
      };
      if (kernelBoot) {
        input.kernel = kernel;
        if (initrd) input.initrd = initrd;
        if (append.trim()) input.append = append.trim();
      }
      let vm = await api.call('vms.define', input);
      if (startAfter) vm = await api.call('vms.start', { host, name });
      onCreated(vm, startAfter);
    });
  };

  return (
    <Dialog title={`New VM on ${host}`} onClose={onClose} onSubmit={submit} submitLabel="Create VM" busy={busy} error={error} width={600}>
      <div className="form-grid">
        <Field label="Name" error={show('name')}>
          {(id) => <input id={id} value={name} disabled={busy} placeholder="vm1" onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Memory (MiB)" error={show('memory')}>
          {(id) => <input id={id} value={memory} inputMode="numeric" disabled={busy} onChange={(e) => setMemory(e.target.value)} />}
        </Field>
        <Field label="vCPUs" error={show('vcpus')}>
          {(id) => <input id={id} value={vcpus} inputMode="numeric" disabled={busy} onChange={(e) => setVcpus(e.target.value)} />}
        </Field>
        <fieldset className="field wide radio-row" disabled={busy}>
          <legend>Disk</legend>
          {(
            [
              ['new', 'New volume'],
              ['existing', 'Existing volume'],
              ['none', 'No disk'],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="radio">
              <input type="radio" name="disk" value={value} checked={diskChoice === value} onChange={() => setDiskChoice(value)} />
              {label}
            </label>
          ))}
        </fieldset>
        {diskChoice !== 'none' ? (
          <Field label="Storage pool" error={show('pool')} hint={selectedPool ? `${formatBytes(selectedPool.availableBytes)} free` : undefined}>
            {(id) => (
              <select id={id} value={pool} disabled={busy || pools.length === 0} onChange={(e) => setPool(e.target.value)}>
                {pools.length === 0 ? <option value="">No pools on this host</option> : null}
                {pools.map((p) => (
                  <option key={p.name} value={p.name}>
                    {p.name} ({p.type}, {p.path})
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        {diskChoice === 'existing' ? (
          <Field label="Volume" error={show('volume')}>
            {(id) => (
              <select id={id} value={volumePath} disabled={busy || !volumes || volumes.length === 0} onChange={(e) => setVolumePath(e.target.value)}>
                {!volumes ? <option value="">Loading…</option> : volumes.length === 0 ? <option value="">No volumes in this pool</option> : null}
                {(volumes ?? []).map((v) => (
                  <option key={v.path} value={v.path}>
                    {v.name} ({v.format}, {formatBytes(v.virtualSizeBytes)})
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        {diskChoice === 'new' ? (
          <>
            <Field label="Volume name" error={show('newVolumeName')}>
              {(id) => <input id={id} value={newVolumeName} disabled={busy} placeholder={name ? `${name}.${newVolumeFormat}` : 'vm1.qcow2'} onChange={(e) => setNewVolumeName(e.target.value)} />}
            </Field>
            <Field label="Disk size" error={show('newVolumeSize')}>
              {(id) => <input id={id} value={newVolumeSize} disabled={busy} onChange={(e) => setNewVolumeSize(e.target.value)} />}
            </Field>
            <Field label="Disk format">
              {(id) => (
                <select id={id} value={newVolumeFormat} disabled={busy} onChange={(e) => setNewVolumeFormat(e.target.value as 'qcow2' | 'raw')}>
                  <option value="qcow2">qcow2</option>
                  <option value="raw">raw</option>
                </select>
              )}
            </Field>
          </>
        ) : null}
        <label className="check wide">
          <input type="checkbox" checked={kernelBoot} disabled={busy} onChange={(e) => setKernelBoot(e.target.checked)} />
          Direct kernel boot
        </label>
        {kernelBoot ? (
          <>
            <Field label="Kernel path" error={show('kernel')}>
              {(id) => <input id={id} value={kernel} disabled={busy} placeholder="/var/lib/ferry/boot/vmlinuz" onChange={(e) => setKernel(e.target.value)} />}
            </Field>
            <Field label="Initrd path" error={show('initrd')}>
              {(id) => <input id={id} value={initrd} disabled={busy} placeholder="/var/lib/ferry/boot/initrd.img" onChange={(e) => setInitrd(e.target.value)} />}
            </Field>
            <Field label="Kernel args" error={show('append')}>
              {(id) => <input id={id} value={append} disabled={busy} onChange={(e) => setAppend(e.target.value)} />}
            </Field>
          </>
        ) : null}
        <label className="check wide">
          <input type="checkbox" checked={startAfter} disabled={busy} onChange={(e) => setStartAfter(e.target.checked)} />
          Start the VM after creating it
        </label>
        {show('boot') ? (
          <div className="field-error wide" role="alert">
            {show('boot')}
          </div>
        ) : null}
      </div>
    </Dialog>
  );
}
