import { Dialog } from '../components/Dialog';
import { useAction } from '../components/common';
import type { FerryApi } from '../api/types';

export interface DeleteVmDialogProps {
  api: FerryApi;
  host: string;
  vm: string;
  running: boolean;
  onDeleted(): void;
  onClose(): void;
}

/** Removes a VM's definition (its disk volumes stay in their pools). */
export function DeleteVmDialog({ api, host, vm, running, onDeleted, onClose }: DeleteVmDialogProps) {
  const { busy, error, run } = useAction();
  const submit = () =>
    void run(async () => {
      await api.call('vms.undefine', { host, name: vm });
      onDeleted();
    });
  return (
    <Dialog title={`Delete ${vm}?`} onClose={onClose} onSubmit={submit} submitLabel="Delete" busy={busy} error={error} tone="danger" width={460}>
      <p>
        This removes the definition of <strong>{vm}</strong> from {host}. Its disk volumes stay in their storage pools.
      </p>
      {running ? <p className="warning-box">The VM is running. Shut it down (or Force Off) first.</p> : null}
    </Dialog>
  );
}
