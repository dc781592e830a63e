import type { MigrationPhase, MigrationSummary } from '../../../src-main/core/api/types';
import { foundOnText } from '../components/FoundOnLine';
import { formatDuration } from '../util/format';

const PHASE_WORDS: Record<MigrationPhase, string> = {
  preflight: 'checking both hosts',
  'preparing-destination': 'preparing the destination',
  'copying-disks': 'copying disks',
  memory: 'copying memory',
  switchover: 'switching over',
  finishing: 'finishing',
  'cleaning-up': 'cleaning up',
  'in-doubt': 'in doubt',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

/**
 * One sentence for a screen reader's polite live region: it changes only when the phase or the
 * outcome does, never with each sample, so the user hears steps and the result, not a stream of numbers.
 */
export function migrationAnnouncement(summary: MigrationSummary): string {
  const what = `Migration of ${summary.vm} to ${summary.to}`;
  const report = summary.report;
  // Where the hosts said the VM is matters most when it did not simply complete.
  const where = report?.foundOn && report.foundOn.length > 0 ? ` VM found on: ${foundOnText(report.foundOn)}.` : '';
  switch (summary.phase) {
    case 'completed': {
      const downtime = report?.downtimeMs !== null && report?.downtimeMs !== undefined ? `, downtime ${formatDuration(report.downtimeMs)}` : '';
      return `${what} completed${report ? ` in ${formatDuration(report.totalTimeMs)}` : ''}${downtime}.`;
    }
    case 'failed':
      return `${what} failed${report?.error ? `: ${report.error.message.replace(/\.$/, '')}` : ''}.${where}`;
    case 'cancelled':
      return `${what} was cancelled.${where}`;
    case 'in-doubt':
      return `${what} is in doubt: a host did not answer. Recover it when the hosts are reachable.${where}`;
    default:
      return `${what}: ${PHASE_WORDS[summary.phase]}${summary.committed ? ', past the point of no return' : ''}.`;
  }
}
