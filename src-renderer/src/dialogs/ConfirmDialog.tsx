import type { ReactNode } from 'react';
import { Dialog } from '../components/Dialog';
import { useAction } from '../components/common';

export interface ConfirmDialogProps {
  title: string;
  /** What will happen and what it cannot undo. */
  children: ReactNode;
  /** Names the action, e.g. "Delete volume": the button says what it does, never just "OK". */
  confirmLabel: string;
  /** Runs when confirmed; the dialog stays open (busy) until it settles and shows its error inline. */
  action(): Promise<unknown>;
  /** After the action succeeded. */
  onDone(): void;
  onCancel(): void;
  tone?: 'danger' | 'normal';
}

/** The one confirmation before anything destructive; focus starts on Cancel, so Enter alone never destroys. */
export function ConfirmDialog({ title, children, confirmLabel, action, onDone, onCancel, tone = 'danger' }: ConfirmDialogProps) {
  const { busy, error, run } = useAction();
  const confirm = () =>
    void run(async () => {
      await action();
      onDone();
    });
  return (
    <Dialog title={title} onClose={onCancel} onSubmit={confirm} submitLabel={confirmLabel} busy={busy} error={error} tone={tone} width={460}>
      <div className="confirm-text">{children}</div>
    </Dialog>
  );
}
