import { useEffect, useId, useRef, type FormEvent, type KeyboardEvent as ReactKeyboardEvent, type ReactNode } from 'react';
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

const FOCUSABLE = [
  'a[href]',
  'button:not([disabled])',
  'input:not([disabled]):not([type="hidden"])',
  'select:not([disabled])',
  'textarea:not([disabled])',
  'summary',
  '[tabindex]:not([tabindex="-1"])',
].join(', ');
const FIRST_FIELD = 'input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled])';

/** What can take focus inside `root`, in tab order; elements inside closed <details> or hidden ones are left out. */
export function focusableIn(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => {
    if (el.closest('fieldset:disabled') && el.tagName !== 'SUMMARY') return false;
    const closedDetails = el.closest('details:not([open])');
    if (closedDetails && !(el.tagName === 'SUMMARY' && el.parentElement === closedDetails)) return false;
    return !el.hidden;
  });
}

// Dialogs can open over dialogs (a host key question over Add Connection); only the top one traps
// focus and answers Escape, so one key press never closes two.
const openDialogs: symbol[] = [];
const isTop = (token: symbol) => openDialogs[openDialogs.length - 1] === token;

/**
 * A modal dialog with a form. Focus goes to the first field (or the first button) on open, Tab and
 * Shift+Tab cycle inside it, and focus returns to what had it before when it closes. Escape or
 * Cancel closes it unless busy; errors show above the buttons.
 */
export function Dialog({ title, children, onClose, onSubmit, submitLabel = 'OK', submitDisabled, busy, error, extraButtons, footerNote, width = 520, tone = 'normal' }: DialogProps) {
  const titleId = useId();
  const modalRef = useRef<HTMLDivElement | null>(null);
  const tokenRef = useRef<symbol>(Symbol(title));
  // The key listener lives as long as the dialog; it reads the latest busy and onClose from here.
  const busyRef = useRef(busy);
  const closeRef = useRef(onClose);
  useEffect(() => {
    busyRef.current = busy;
    closeRef.current = onClose;
  }, [busy, onClose]);

  useEffect(() => {
    const token = tokenRef.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    openDialogs.push(token);
    const modal = modalRef.current;
    if (modal) (modal.querySelector<HTMLElement>(FIRST_FIELD) ?? focusableIn(modal)[0] ?? modal).focus();

    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && isTop(token) && !busyRef.current) {
        event.preventDefault();
        closeRef.current();
      }
    };
    // A click on the backdrop or a page element must not take focus out of the dialog.
    const onFocusIn = (event: FocusEvent) => {
      const root = modalRef.current;
      if (!root || !isTop(token) || !(event.target instanceof Node) || root.contains(event.target)) return;
      (focusableIn(root)[0] ?? root).focus();
    };
    window.addEventListener('keydown', onKey);
    document.addEventListener('focusin', onFocusIn);
    return () => {
      window.removeEventListener('keydown', onKey);
      document.removeEventListener('focusin', onFocusIn);
      openDialogs.splice(openDialogs.indexOf(token), 1);
      // Back to the opener if it is still on the page; the next dialog down gets it otherwise.
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  // A button pressed while the dialog works (Check, Connect) is disabled and drops focus to the page;
  // when the work ends, focus goes back to it, or to the first control if it is gone or still disabled.
  const lastFocused = useRef<HTMLElement | null>(null);
  useEffect(() => {
    const root = modalRef.current;
    if (busy || !root || !isTop(tokenRef.current) || root.contains(document.activeElement)) return;
    const last = lastFocused.current;
    if (last && root.contains(last) && focusableIn(root).includes(last)) last.focus();
    else (focusableIn(root)[0] ?? root).focus();
  }, [busy]);

  const trapTab = (event: ReactKeyboardEvent<HTMLDivElement>) => {
    if (event.key !== 'Tab' || !modalRef.current || !isTop(tokenRef.current)) return;
    const items = focusableIn(modalRef.current);
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) {
      event.preventDefault();
      return;
    }
    const active = document.activeElement;
    if (event.shiftKey && (active === first || !modalRef.current.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !modalRef.current.contains(active))) {
      event.preventDefault();
      first.focus();
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!busy && !submitDisabled) onSubmit?.();
  };

  return (
    <div className="modal-backdrop">
      <div ref={modalRef} className="modal" role="dialog" aria-modal="true" aria-labelledby={titleId} aria-busy={busy || undefined} tabIndex={-1} style={{ width }} onKeyDown={trapTab} onFocus={(event) => (lastFocused.current = event.target)}>
        <form onSubmit={submit} noValidate>
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
