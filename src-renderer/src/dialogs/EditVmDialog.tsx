import { useMemo, useState } from 'react';
import { vmUpdateInput } from '../../../src-main/core/api/contract';
import { diskPathSchema } from '../../../src-main/core/api/names';
import { definitionNics } from '../../../src-main/core/api/vm-hardware';
import type { VmDefinition, VmDetails } from '../../../src-main/core/api/types';
import type { ChannelInput, FerryApi } from '../api/types';
import { Dialog } from '../components/Dialog';
import { Field, useAction } from '../components/common';
import { CpuModelField } from './CpuModelField';
import { BootOrderField, bootChoices, FirmwareField, bootValue, labelled, NicEditor, nicDraftOf, nicInputs, nicProblems, schemaProblem, type NicDraft } from './vm-hardware-form';
import './vm-hardware-form.css';

export interface EditVmDialogProps {
  api: FerryApi;
  host: string;
  definition: VmDefinition;
  onSaved(vm: VmDetails): void;
  onClose(): void;
}

/** Edits a stopped VM's hardware (vms.update); the engine refuses if it was started meanwhile. */
export function EditVmDialog({ api, host, definition, onSaved, onClose }: EditVmDialogProps) {
  const [memory, setMemory] = useState(String(definition.memoryMiB));
  const [vcpus, setVcpus] = useState(String(definition.vcpus));
  const [cpuModel, setCpuModel] = useState(definition.cpuModel);
  const [disks, setDisks] = useState(definition.disks);
  const [newDisk, setNewDisk] = useState('');
  const [nics, setNics] = useState<NicDraft[]>(definitionNics(definition).map(nicDraftOf));
  const [iso, setIso] = useState(definition.cdrom ?? '');
  const [bootChoice, setBootChoice] = useState(bootValue(definition.boot));
  const [autostart, setAutostart] = useState(definition.autostart === true);
  const [firmware, setFirmware] = useState<'bios' | 'uefi'>(definition.firmware ?? 'bios');
  const [touched, setTouched] = useState(false);
  const { busy, error, run } = useAction();

  const problems = useMemo(() => {
    const p: Record<string, string> = {};
    if (!/^\d+$/.test(memory) || schemaProblem(vmUpdateInput.shape.memoryMiB, Number(memory))) p['memory'] = 'Memory must be a whole number of MiB, at least 16';
    if (!/^\d+$/.test(vcpus) || schemaProblem(vmUpdateInput.shape.vcpus, Number(vcpus))) p['vcpus'] = 'vCPUs must be from 1 to 512';
    const cpu = schemaProblem(vmUpdateInput.shape.cpuModel, cpuModel);
    if (cpu) p['cpuModel'] = labelled('CPU model', cpu) as string;
    if (newDisk !== '') {
      const disk = schemaProblem(diskPathSchema, newDisk);
      if (disk) p['newDisk'] = labelled('Disk path', disk) as string;
    }
    if (iso !== '') {
      const isoProblem = schemaProblem(diskPathSchema, iso);
      if (isoProblem) p['iso'] = labelled('ISO path', isoProblem) as string;
    }
    Object.assign(p, nicProblems(nics));
    return p;
  }, [memory, vcpus, cpuModel, newDisk, iso, nics]);
  const show = (key: string) => (touched ? problems[key] ?? null : null);
  const allDisks = newDisk === '' ? disks : [...disks, { path: newDisk, format: undefined, cache: 'none' as const }];
  const boots = bootChoices({ cdrom: iso !== '', disk: allDisks.length > 0, network: nics.length > 0 });

  const submit = () => {
    setTouched(true);
    if (Object.keys(problems).length > 0) return;
    void run(async () => {
      const input: ChannelInput<'vms.update'> = {
        host,
        name: definition.name,
        memoryMiB: Number(memory),
        vcpus: Number(vcpus),
        cpuModel,
        disks: allDisks.map((disk) => ({ path: disk.path, cache: disk.cache, ...(disk.format ? { format: disk.format } : {}) })),
        nics: nicInputs(nics),
        cdrom: iso === '' ? null : iso,
        boot: boots.find((choice) => choice.value === bootChoice)?.order ?? [],
        autostart,
        firmware,
      };
      onSaved(await api.call('vms.update', input));
    });
  };

  return (
    <Dialog title={`Edit ${definition.name}`} onClose={onClose} onSubmit={submit} submitLabel="Save" busy={busy} error={error} width={640}
      footerNote="Changes apply the next time the VM starts.">
      <div className="form-grid">
        <Field label="Memory (MiB)" error={show('memory')}>
          {(id) => <input id={id} value={memory} inputMode="numeric" disabled={busy} onChange={(e) => setMemory(e.target.value)} />}
        </Field>
        <Field label="vCPUs" error={show('vcpus')}>
          {(id) => <input id={id} value={vcpus} inputMode="numeric" disabled={busy} onChange={(e) => setVcpus(e.target.value)} />}
        </Field>
        <CpuModelField value={cpuModel} onChange={setCpuModel} disabled={busy} error={show('cpuModel')} />
        <fieldset className="hw-group" disabled={busy}>
          <legend>Disks</legend>
          {disks.length === 0 ? <p className="muted small">No disks.</p> : null}
          {disks.map((disk, index) => (
            <div className="nic-row" key={disk.path}>
              <span className="mono small">{disk.path}</span>
              <span className="muted small">
                {disk.format}, cache {disk.cache}
              </span>
              <button type="button" onClick={() => setDisks(disks.filter((_, at) => at !== index))}>
                Detach<span className="sr-only"> {disk.path}</span>
              </button>
            </div>
          ))}
        </fieldset>
        <Field label="Attach disk" error={show('newDisk')} hint="Full path of an existing image on the host; its files are never deleted here" wide>
          {(id) => <input id={id} value={newDisk} disabled={busy} placeholder="/var/lib/ferry/images/data.qcow2" onChange={(e) => setNewDisk(e.target.value)} />}
        </Field>
        <NicEditor nics={nics} onChange={setNics} disabled={busy} problems={touched ? nicProblems(nics) : {}} />
        <Field label="CD-ROM (ISO path)" error={show('iso')} hint={iso === '' ? 'Empty: no CD-ROM drive' : undefined}>
          {(id) => <input id={id} value={iso} disabled={busy} placeholder="/var/lib/ferry/images/install.iso" onChange={(e) => setIso(e.target.value)} />}
        </Field>
        <FirmwareField value={firmware} onChange={setFirmware} disabled={busy} wasUefi={definition.firmware === 'uefi'} />
        <BootOrderField choices={boots} value={bootChoice} onChange={setBootChoice} disabled={busy} />
        <label className="check wide">
          <input type="checkbox" checked={autostart} disabled={busy} onChange={(e) => setAutostart(e.target.checked)} />
          Start this VM when the host boots
        </label>
      </div>
    </Dialog>
  );
}
