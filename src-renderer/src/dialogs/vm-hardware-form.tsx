import type { ZodType } from 'zod';
import type { VmBootDevice, VmNic } from '../../../src-main/core/api/types';
import { bridgeNameSchema, macAddressSchema, MAX_NICS } from '../../../src-main/core/api/vm-hardware';
import { Field } from '../components/common';
import './vm-hardware-form.css';

/** The first message the contract's own schema has for a value, or null when it accepts it. */
export function schemaProblem(schema: ZodType, value: unknown): string | null {
  const result = schema.safeParse(value);
  return result.success ? null : result.error.issues[0]?.message ?? 'is not valid';
}

/**
 * A schema's message under a field's name: "Kernel path must be absolute". A message that is a
 * whole sentence of its own ("/etc/x cannot be a kernel…") is shown as it is.
 */
export function labelled(label: string, message: string | null): string | null {
  if (message === null) return null;
  return /^[a-z]/.test(message) ? `${label} ${message}` : message;
}

/** A NIC as the form holds it; `mac` is set for a NIC the VM already has, so it keeps its MAC. */
export interface NicDraft {
  model: VmNic['model'];
  network: 'user' | 'bridge';
  bridge: string;
  mac?: string;
}

export const newNicDraft = (): NicDraft => ({ model: 'virtio-net-pci', network: 'user', bridge: '' });

export function nicDraftOf(nic: VmNic): NicDraft {
  return { model: nic.model, network: nic.network.type, bridge: nic.network.type === 'bridge' ? nic.network.bridge : '', mac: nic.mac };
}

/** The contract's NIC input for each draft. */
export function nicInputs(drafts: NicDraft[]) {
  return drafts.map((draft) => ({
    model: draft.model,
    network: draft.network === 'bridge' ? { type: 'bridge' as const, bridge: draft.bridge } : { type: 'user' as const },
    ...(draft.mac ? { mac: draft.mac } : {}),
  }));
}

/** Problems keyed "nic0", "nic1", …, checked by the contract's schemas. */
export function nicProblems(drafts: NicDraft[]): Record<string, string> {
  const problems: Record<string, string> = {};
  drafts.forEach((draft, index) => {
    const bridge = draft.network === 'bridge' ? (draft.bridge === '' ? 'Name the host bridge, e.g. br0' : schemaProblem(bridgeNameSchema, draft.bridge)) : null;
    const mac = draft.mac ? schemaProblem(macAddressSchema, draft.mac) : null;
    if (bridge ?? mac) problems[`nic${index}`] = (bridge ?? mac) as string;
  });
  return problems;
}

export function NicEditor({ nics, onChange, disabled, problems }: { nics: NicDraft[]; onChange(next: NicDraft[]): void; disabled: boolean; problems: Record<string, string | null> }) {
  const update = (index: number, patch: Partial<NicDraft>) => onChange(nics.map((nic, at) => (at === index ? { ...nic, ...patch } : nic)));
  return (
    <fieldset className="hw-group" disabled={disabled}>
      <legend>Network interfaces</legend>
      {nics.length === 0 ? <p className="muted small">No network interface.</p> : null}
      {nics.map((nic, index) => {
        const problem = problems[`nic${index}`];
        return (
          <div className="nic-row" key={index}>
            <select aria-label={`NIC ${index + 1} model`} value={nic.model} onChange={(e) => update(index, { model: e.target.value as NicDraft['model'] })}>
              <option value="virtio-net-pci">virtio-net</option>
              <option value="e1000">e1000</option>
            </select>
            <select aria-label={`NIC ${index + 1} network`} value={nic.network} onChange={(e) => update(index, { network: e.target.value as NicDraft['network'] })}>
              <option value="user">User-mode (NAT, no host setup)</option>
              <option value="bridge">Host bridge</option>
            </select>
            {nic.network === 'bridge' ? (
              <input
                aria-label={`NIC ${index + 1} bridge`}
                aria-invalid={problem ? true : undefined}
                placeholder="br0"
                value={nic.bridge}
                onChange={(e) => update(index, { bridge: e.target.value })}
              />
            ) : null}
            <span className="mono small muted">{nic.mac ?? 'new MAC'}</span>
            <button type="button" onClick={() => onChange(nics.filter((_, at) => at !== index))}>
              Remove<span className="sr-only"> NIC {index + 1}</span>
            </button>
            {problem ? (
              <div className="field-error nic-error" role="alert">
                NIC {index + 1}: {problem}
              </div>
            ) : null}
          </div>
        );
      })}
      {nics.length < MAX_NICS ? (
        <button type="button" onClick={() => onChange([...nics, newNicDraft()])}>
          Add network interface
        </button>
      ) : null}
    </fieldset>
  );
}

/** Boot orders worth offering, given which devices the VM has. */
export function bootChoices(has: { cdrom: boolean; disk: boolean; network: boolean }): Array<{ value: string; label: string; order: VmBootDevice[] }> {
  const choices: Array<{ value: string; label: string; order: VmBootDevice[] }> = [{ value: '', label: 'Firmware default', order: [] }];
  if (has.disk) choices.push({ value: 'disk', label: 'Disk', order: ['disk'] });
  if (has.cdrom) choices.push({ value: 'cdrom,disk', label: 'CD-ROM, then disk (install)', order: has.disk ? ['cdrom', 'disk'] : ['cdrom'] });
  if (has.cdrom && has.disk) choices.push({ value: 'disk,cdrom', label: 'Disk, then CD-ROM', order: ['disk', 'cdrom'] });
  if (has.network) choices.push({ value: 'network,disk', label: 'Network (PXE), then disk', order: has.disk ? ['network', 'disk'] : ['network'] });
  return choices;
}

export function bootValue(order: VmBootDevice[] | undefined): string {
  return (order ?? []).join(',');
}

/** BIOS or UEFI, with the hint that says what each means (and why switching an installed system back fails). */
export function FirmwareField({ value, onChange, disabled, wasUefi = false }: { value: 'bios' | 'uefi'; onChange(next: 'bios' | 'uefi'): void; disabled: boolean; wasUefi?: boolean }) {
  const hint = value === 'uefi' ? 'OVMF from the host (Debian/Ubuntu package ovmf); the VM gets its own UEFI variables' : wasUefi ? 'An installed UEFI system does not boot under BIOS' : 'SeaBIOS';
  return (
    <Field label="Firmware" hint={hint}>
      {(id) => (
        <select id={id} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value === 'uefi' ? 'uefi' : 'bios')}>
          <option value="bios">BIOS</option>
          <option value="uefi">UEFI</option>
        </select>
      )}
    </Field>
  );
}

/** The boot order among the choices the VM's devices allow. */
export function BootOrderField({ choices, value, onChange, disabled }: { choices: ReturnType<typeof bootChoices>; value: string; onChange(next: string): void; disabled: boolean }) {
  return (
    <Field label="Boot order">
      {(id) => (
        <select id={id} value={choices.some((choice) => choice.value === value) ? value : ''} disabled={disabled} onChange={(e) => onChange(e.target.value)}>
          {choices.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
