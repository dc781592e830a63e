import type { ReactNode } from 'react';
import type { MigrationReport } from '../../../src-main/core/api/types';

/**
 * A migration that stopped without being settled. The engine's message says what state the VM
 * is in and its hint how it will be retried; both are shown as given, never guessed at.
 */
export function InDoubtNotice({ report, actions }: { report: MigrationReport; actions?: ReactNode }) {
  return (
    <section className="in-doubt-notice" aria-label="Migration in doubt">
      <div className="in-doubt-title">
        <span className="in-doubt-mark" aria-hidden="true">?</span>
        <strong>Not settled yet: Ferry could not finish or undo this migration.</strong>
      </div>
      <div className="in-doubt-message">{report.error?.message ?? 'The engine gave no reason.'}</div>
      {report.error?.hint ? <div className="in-doubt-hint">{report.error.hint}</div> : null}
      {actions ? <div className="in-doubt-actions">{actions}</div> : null}
    </section>
  );
}
