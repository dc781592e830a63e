import { useEffect, useId, useRef, type FormEvent, type ReactNode } from 'react';
import type { ErrorInfo } from '../api/types';
import { ErrorBox } from './common';

export interface DialogProps {
  title: string;
  children: ReactNode;
  onClose(): void;
  /** Called on submit (Enter or the submit button). */
  onSubmit?(): void;
  submitLabel?: string;
  submitDisabled?: boolean;
  busy?: boolean;
  error?: ErrorInfo | null;
  extraButtons?: ReactNode;
  footerNote?: ReactNode;
  width?: number;
  tone?: 'normal' | 'danger';
}

/** A modal dialog with a form: Escape or Cancel closes it (unless busy); errors show above the buttons. */
export function Dialog({ title, children, onClose, onSubmit, submitLabel = 'OK', submitDisabled, busy, error, extraButtons, footerNote, width = 520, tone = 'normal' }: DialogProps) {
  const titleId = useId();
  const formRef = useRef<HTMLFormElement | null>(null);
  useEffect(() => {
    const first = formRef.current?.querySelector<HTMLElement>('input:not([disabled]), select:not([disabled]), textarea, button:not([disabled])');
    first?.focus();
  }, []);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !busy) onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [busy, onClose]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!busy && !submitDisabled) onSubmit?.();
  };

  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby={titleId} style={{ width }}>
        <form ref={formRef} onSubmit={submit} noValidate>
          <header className="modal-header">
            <h2 id={titleId}>{title}</h2>
          </header>
          <div className="modal-body">{children}</div>
          <ErrorBox error={error} />
          <footer className="modal-footer">
            <div className="footer-note">{footerNote}</div>
            {extraButtons}
            <button type="button" onClick={onClose} disabled={busy}>
              Cancel
            </button>
            {onSubmit ? (
              <button type="submit" className={tone === 'danger' ? 'danger' : 'primary'} disabled={busy || submitDisabled} aria-busy={busy}>
                {busy ? <span className="spinner" aria-hidden="true" /> : null}
                {submitLabel}
              </button>
            ) : null}
          </footer>
        </form>
      </div>
    </div>
  );
}
