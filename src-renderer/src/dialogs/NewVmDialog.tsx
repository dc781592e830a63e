import { useEffect, useMemo, useState } from 'react';
import type { PoolSummary, VmDetails, VolumeInfo } from '../../../src-main/core/api/types';
import type { ChannelInput, FerryApi } from '../api/types';
import { Dialog } from '../components/Dialog';
import { Field, useAction } from '../components/common';
import { vmDefineInput } from '../../../src-main/core/api/contract';
import { diskPathSchema, kernelPathSchema, vmNameSchema, volumeNameSchema } from '../../../src-main/core/api/names';
import { DEFAULT_CPU_MODEL } from '../../../src-main/core/api/vm-hardware';
import { describeDeviceUse } from '../../../src-main/core/api/block-device-use';
import { formatBytes, parseSizeText } from '../util/format';
import { CpuModelField } from './CpuModelField';
import { BootOrderField, bootChoices, FirmwareField, labelled, NicEditor, newNicDraft, nicInputs, nicProblems, schemaProblem, type NicDraft } from './vm-hardware-form';

export interface NewVmDialogProps {
  api: FerryApi;
  host: string;
  pools: PoolSummary[];
  existingNames: string[];
  onCreated(vm: VmDetails, started: boolean): void;
  onClose(): void;
}

type DiskChoice = 'none' | 'existing' | 'new' | 'device';

/** A device that is mounted, a running VM's disk or holds partitions cannot become this VM's disk. */
export function deviceRefusal(volume: VolumeInfo): string | null {
  const use = volume.device?.use;
  if (!use || use.kind === 'free' || use.kind === 'signature') return null;
  return describeDeviceUse(use);
}

/** A disk pool's devices are chosen as block devices; image volumes come from the other pools. */
export function poolsForDiskChoice(pools: PoolSummary[], choice: DiskChoice): PoolSummary[] {
  return pools.filter((p) => (choice === 'device') === (p.type === 'disk'));
}

export function NewVmDialog({ api, host, pools, existingNames, onCreated, onClose }: NewVmDialogProps) {
  const [name, setName] = useState('');
  const [memory, setMemory] = useState('512');
  const [vcpus, setVcpus] = useState('1');
  const [diskChoice, setDiskChoice] = useState<DiskChoice>(pools.length > 0 ? 'new' : 'none');
  const [chosenPool, setPool] = useState('');
  // Kept with the pool they came from, so another pool's list never shows while the next one loads.
  const [loaded, setLoaded] = useState<{ pool: string; list: VolumeInfo[] } | null>(null);
  const [volumePath, setVolumePath] = useState('');
  const [newVolumeName, setNewVolumeName] = useState('');
  const [newVolumeSize, setNewVolumeSize] = useState('10G');
  const [newVolumeFormat, setNewVolumeFormat] = useState<'qcow2' | 'raw'>('qcow2');
  const [kernelBoot, setKernelBoot] = useState(false);
  const [kernel, setKernel] = useState('');
  const [initrd, setInitrd] = useState('');
  const [append, setAppend] = useState('console=ttyS0');
  const [cpuModel, setCpuModel] = useState(DEFAULT_CPU_MODEL);
  const [accel, setAccel] = useState<'auto' | 'kvm' | 'tcg'>('auto');
  const [nics, setNics] = useState<NicDraft[]>([newNicDraft()]);
  const [installFromIso, setInstallFromIso] = useState(false);
  const [iso, setIso] = useState('');
  const [bootChoice, setBootChoice] = useState('');
  const [autostart, setAutostart] = useState(false);
  const [firmware, setFirmware] = useState<'bios' | 'uefi'>('bios');
  const [startAfter, setStartAfter] = useState(false);
  const [touched, setTouched] = useState(false);
  const { busy, error, run } = useAction();
  const choosablePools = poolsForDiskChoice(pools, diskChoice);
  const pool = choosablePools.some((p) => p.name === chosenPool) ? chosenPool : choosablePools.find((p) => p.active)?.name ?? choosablePools[0]?.name ?? '';
  const volumes = loaded?.pool === pool ? loaded.list : null;

  useEffect(() => {
    if ((diskChoice !== 'existing' && diskChoice !== 'device') || !pool) return;
    let alive = true;
    api.call('volumes.list', { host, pool }).then(
      (list) => {
        if (!alive) return;
        setLoaded({ pool, list });
        const usable = list.filter((v) => deviceRefusal(v) === null);
        setVolumePath((current) => (current && usable.some((v) => v.path === current) ? current : usable[0]?.path ?? ''));
      },
      () => alive && setLoaded({ pool, list: [] }),
    );
    return () => {
      alive = false;
    };
  }, [api, host, pool, diskChoice]);

  const problems = useMemo(() => {
    const p: Record<string, string> = {};
    // The contract's own schemas: the form says no to exactly what the engine would refuse.
    const n = name.trim() === '' ? 'VM name is required' : schemaProblem(vmNameSchema, name);
    if (n) p['name'] = n;
    else if (existingNames.includes(name)) p['name'] = `There is already a VM "${name}" on ${host}`;
    if (!/^\d+$/.test(memory) || schemaProblem(vmDefineInput.shape.memoryMiB, Number(memory))) p['memory'] = 'Memory must be a whole number of MiB, at least 16';
    if (!/^\d+$/.test(vcpus) || schemaProblem(vmDefineInput.shape.vcpus, Number(vcpus))) p['vcpus'] = 'vCPUs must be from 1 to 512';
    const cpu = schemaProblem(vmDefineInput.shape.cpuModel, cpuModel);
    if (cpu) p['cpuModel'] = labelled('CPU model', cpu) as string;
    Object.assign(p, nicProblems(nics));
    if (installFromIso) {
      const isoProblem = iso === '' ? 'Give the path of an ISO image on the host' : schemaProblem(diskPathSchema, iso);
      if (isoProblem) p['iso'] = iso === '' ? isoProblem : (labelled('ISO path', isoProblem) as string);
    }
    if (diskChoice !== 'none' && !pool) p['pool'] = diskChoice === 'device' ? 'Add a disk pool on the host’s Storage tab to choose one of its block devices' : 'Choose a storage pool (add one on the host’s Storage tab)';
    if (diskChoice === 'existing' && !volumePath) p['volume'] = 'Choose a volume';
    if (diskChoice === 'device' && pool && !volumePath) p['volume'] = 'Choose a block device that is not in use';
    if (diskChoice === 'new') {
      const vn = schemaProblem(volumeNameSchema, newVolumeName || `${name}.${newVolumeFormat}`);
      if (vn) p['newVolumeName'] = vn;
      if (parseSizeText(newVolumeSize) === null) p['newVolumeSize'] = 'Use a size such as 10G or 512M';
    }
    if (kernelBoot) {
      const k = kernel ? schemaProblem(kernelPathSchema, kernel) : 'is required for direct kernel boot';
      if (k) p['kernel'] = labelled('Kernel path', k) as string;
      if (initrd) {
        const i = schemaProblem(kernelPathSchema, initrd);
        if (i) p['initrd'] = labelled('Initrd path', i) as string;
      }
      const a = schemaProblem(vmDefineInput.shape.append, append);
      if (a) p['append'] = labelled('Kernel arguments', a) as string;
    }
    if (diskChoice === 'none' && !kernelBoot && !installFromIso) p['boot'] = 'The VM needs a disk, an ISO or a kernel to boot';
    return p;
  }, [name, existingNames, host, memory, vcpus, cpuModel, nics, installFromIso, iso, diskChoice, pool, volumePath, newVolumeName, newVolumeFormat, newVolumeSize, kernelBoot, kernel, initrd, append]);
  const boots = bootChoices({ cdrom: installFromIso, disk: diskChoice !== 'none', network: nics.length > 0 });
  const show = (key: string) => (touched ? problems[key] ?? null : null);
  const selectedPool = pools.find((p) => p.name === pool);

  const submit = () => {
    setTouched(true);
    if (Object.keys(problems).length > 0) return;
    void run(async () => {
      let diskPath: string | null = null;
      let diskFormat: 'qcow2' | 'raw' | undefined;
      if (diskChoice === 'device') {
        // Block devices are always raw: QEMU opens them with host_device.
        diskPath = volumePath;
        diskFormat = 'raw';
      } else if (diskChoice === 'existing') {
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
        cpuModel,
        accel,
        nics: nicInputs(nics),
      };
      if (installFromIso) input.cdrom = iso;
      const boot = boots.find((choice) => choice.value === bootChoice)?.order ?? [];
      if (boot.length > 0) input.boot = boot;
      if (autostart) input.autostart = true;
      if (firmware === 'uefi') input.firmware = 'uefi';
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
        <CpuModelField value={cpuModel} onChange={setCpuModel} disabled={busy} error={show('cpuModel')} />
        <Field label="Acceleration" hint="Automatic: KVM where the host can use it, else TCG emulation (much slower)">
          {(id) => (
            <select id={id} value={accel} disabled={busy} onChange={(e) => setAccel(e.target.value === 'kvm' ? 'kvm' : e.target.value === 'tcg' ? 'tcg' : 'auto')}>
              <option value="auto">Automatic</option>
              <option value="kvm">KVM</option>
              <option value="tcg">TCG (emulation)</option>
            </select>
          )}
        </Field>
        <NicEditor nics={nics} onChange={setNics} disabled={busy} problems={touched ? nicProblems(nics) : {}} />
        <fieldset className="field wide radio-row" disabled={busy}>
          <legend>Disk</legend>
          {(
            [
              ['new', 'New volume'],
              ['existing', 'Existing volume'],
              ['device', 'Block device'],
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
          <Field label={diskChoice === 'device' ? 'Disk pool' : 'Storage pool'} error={show('pool')} hint={selectedPool && selectedPool.type !== 'disk' ? `${formatBytes(selectedPool.availableBytes)} free` : undefined}>
            {(id) => (
              <select id={id} value={pool} disabled={busy || choosablePools.length === 0} onChange={(e) => setPool(e.target.value)}>
                {choosablePools.length === 0 ? <option value="">{diskChoice === 'device' ? 'No disk pools on this host' : 'No pools on this host'}</option> : null}
                {choosablePools.map((p) => (
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
        {diskChoice === 'device' ? (
          <Field label="Block device" error={show('volume')} hint={chosenDeviceHint(volumes?.find((v) => v.path === volumePath))}>
            {(id) => (
              <select id={id} value={volumePath} disabled={busy || !volumes || volumes.length === 0} onChange={(e) => setVolumePath(e.target.value)}>
                {!volumes ? <option value="">Loading…</option> : volumes.length === 0 ? <option value="">No block devices in this pool</option> : null}
                {!volumes || volumes.length === 0 || volumes.some((v) => deviceRefusal(v) === null) ? null : <option value="">Every device here is in use</option>}
                {(volumes ?? []).map((v) => (
                  <option key={v.path} value={v.path} disabled={deviceRefusal(v) !== null}>
                    {v.path} ({formatBytes(v.virtualSizeBytes)}, {v.device ? describeDeviceUse(v.device.use) : 'unknown use'})
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
          <input type="checkbox" checked={installFromIso} disabled={busy} onChange={(e) => setInstallFromIso(e.target.checked)} />
          Install from an ISO image (CD-ROM)
        </label>
        {installFromIso ? (
          <Field label="ISO path" error={show('iso')} hint="An image already on the host, e.g. in a pool directory">
            {(id) => <input id={id} value={iso} disabled={busy} placeholder="/var/lib/ferry/images/install.iso" onChange={(e) => setIso(e.target.value)} />}
          </Field>
        ) : null}
        <FirmwareField value={firmware} onChange={setFirmware} disabled={busy} />
        <BootOrderField choices={boots} value={bootChoice} onChange={setBootChoice} disabled={busy} />
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
          <input type="checkbox" checked={autostart} disabled={busy} onChange={(e) => setAutostart(e.target.checked)} />
          Start this VM when the host boots
        </label>
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

/** The VM writes the whole device: say so when something is on it already. */
function chosenDeviceHint(device: VolumeInfo | undefined): string | undefined {
  if (!device) return undefined;
  const use = device.device?.use;
  if (use?.kind === 'signature') return `Used raw as the VM's disk. It carries ${describeDeviceUse(use)}: the VM can overwrite it.`;
  return "Used raw as the VM's disk.";
}
