import type { KeyboardEvent } from 'react';

/** Rows are tab stops: Enter or Space opens one, the up and down arrows go to the row above or below. */
export function rowKey(event: KeyboardEvent<HTMLTableRowElement>, open: () => void): void {
  if (event.target !== event.currentTarget) return;
  if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    open();
  } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    const next = event.key === 'ArrowDown' ? event.currentTarget.nextElementSibling : event.currentTarget.previousElementSibling;
    if (next instanceof HTMLTableRowElement && next.tabIndex === 0) {
      event.preventDefault();
      next.focus();
    }
  }
}
