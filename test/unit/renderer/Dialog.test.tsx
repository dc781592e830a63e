// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Dialog } from '../../../src-renderer/src/components/Dialog.js';

afterEach(cleanup);

const tab = (shift = false) => fireEvent.keyDown(document.activeElement ?? document.body, { key: 'Tab', shiftKey: shift });

/** An opener button and the dialog it opens; `busy` and a nested dialog on demand. */
function Harness({ busy = false, nested = false, onClose }: { busy?: boolean; nested?: boolean; onClose?: () => void }) {
  const [open, setOpen] = useState(false);
  const [inner, setInner] = useState(nested);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Open
      </button>
      {open ? (
        <Dialog
          title="Outer"
          busy={busy}
          onSubmit={vi.fn()}
          submitLabel="Save"
          onClose={() => {
            onClose?.();
            setOpen(false);
          }}
        >
          <label>
            Name
            <input />
          </label>
          <label>
            Size
            <input />
          </label>
        </Dialog>
      ) : null}
      {open && inner ? (
        <Dialog title="Inner" onClose={() => setInner(false)}>
          <p>Nested question</p>
        </Dialog>
      ) : null}
    </>
  );
}

function openWithKeyboardFocus(props: Parameters<typeof Harness>[0] = {}) {
  render(<Harness {...props} />);
  const opener = screen.getByRole('button', { name: 'Open' });
  opener.focus();
  fireEvent.click(opener);
  return opener;
}

describe('Dialog focus', () => {
  it('focuses the first field on open', () => {
    openWithKeyboardFocus();
    expect(document.activeElement).toBe(screen.getByLabelText('Name'));
  });

  it('keeps Tab and Shift+Tab inside the dialog', () => {
    openWithKeyboardFocus();
    const save = screen.getByRole('button', { name: 'Save' });
    tab(true);
    expect(document.activeElement).toBe(save);
    tab();
    expect(document.activeElement).toBe(screen.getByLabelText('Name'));
    // In the middle, Tab is left to the browser (not prevented).
    screen.getByLabelText('Size').focus();
    expect(fireEvent.keyDown(document.activeElement as Element, { key: 'Tab' })).toBe(true);
  });

  it('pulls focus back when something outside takes it', () => {
    const opener = openWithKeyboardFocus();
    opener.focus();
    expect(document.activeElement).toBe(screen.getByLabelText('Name'));
  });

  it('closes on Escape and gives focus back to the opener', () => {
    const onClose = vi.fn();
    const opener = openWithKeyboardFocus({ onClose });
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(opener);
  });

  it('ignores Escape while busy', () => {
    const onClose = vi.fn();
    openWithKeyboardFocus({ busy: true, onClose });
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(onClose).not.toHaveBeenCalled();
    expect(screen.getByRole('dialog', { name: 'Outer' })).toBeTruthy();
  });

  it('with a dialog over a dialog, Escape closes only the top one and focus stays in the one below', () => {
    const onClose = vi.fn();
    openWithKeyboardFocus({ nested: true, onClose });
    expect(screen.getByRole('dialog', { name: 'Inner' }).contains(document.activeElement)).toBe(true);
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByRole('dialog', { name: 'Inner' })).toBeNull();
    expect(onClose).not.toHaveBeenCalled();
    expect(screen.getByRole('dialog', { name: 'Outer' }).contains(document.activeElement)).toBe(true);
  });
});

describe('Dialog busy', () => {
  function BusyToggle() {
    const [busy, setBusy] = useState(false);
    return (
      <Dialog title="Work" busy={busy} onClose={vi.fn()} extraButtons={<button type="button" disabled={busy} onClick={() => setBusy(true)}>Check</button>}>
        <button type="button" onClick={() => setBusy(false)}>
          Done
        </button>
      </Dialog>
    );
  }

  it('gives focus back to the pressed button when the work ends', () => {
    render(<BusyToggle />);
    const check = screen.getByRole('button', { name: 'Check' });
    check.focus();
    fireEvent.click(check);
    // Disabled while busy: the browser drops focus to the page.
    (document.activeElement as HTMLElement).blur();
    fireEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(document.activeElement).toBe(check);
  });
});
