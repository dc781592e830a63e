import { DEFAULT_CPU_MODEL, HOST_PASSTHROUGH_CPU } from '../../../src-main/core/api/vm-hardware';
import { Field } from '../components/common';

const KNOWN = [DEFAULT_CPU_MODEL, HOST_PASSTHROUGH_CPU, 'qemu64'];

/** The CPU model, with what each choice means for the guest and for migration. */
export function CpuModelField({ value, onChange, disabled, error }: { value: string; onChange(next: string): void; disabled: boolean; error: string | null }) {
  const hint =
    value === HOST_PASSTHROUGH_CPU
      ? 'The host’s own CPU: fastest, needs KVM, and migrates only to a host with the same CPU.'
      : value === 'qemu64'
        ? 'Lacks x86-64-v2: RHEL 9-family and other current distributions do not boot on it.'
        : value === DEFAULT_CPU_MODEL
          ? 'Has x86-64-v2 for current distributions; works with and without KVM, and migrates anywhere.'
          : undefined;
  return (
    <Field label="CPU model" error={error} hint={hint}>
      {(id) => (
        <select id={id} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value)}>
          {(KNOWN.includes(value) ? KNOWN : [value, ...KNOWN]).map((model) => (
            <option key={model} value={model}>
              {model === DEFAULT_CPU_MODEL ? `${model} (default)` : model === HOST_PASSTHROUGH_CPU ? 'host (passthrough)' : model}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
