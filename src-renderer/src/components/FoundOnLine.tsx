import type { VmLocation } from '../../../src-main/core/api/types';

const WHERE: Record<VmLocation['state'], string> = {
  running: 'running',
  paused: 'paused',
  shutoff: 'stopped',
  inmigrate: 'waiting for incoming memory',
  postmigrate: 'stopped after migrating away',
  suspended: 'suspended',
  'shutting-down': 'shutting down',
  crashed: 'crashed',
  unknown: 'in an unknown state',
  absent: 'not there',
  unreachable: 'did not answer',
};

/**
 * "b — running; a — not there": what the hosts said when the migration ended. Reports written
 * before Ferry asked the hosts have no locations; then nothing is claimed.
 */
export function foundOnText(foundOn: VmLocation[] | undefined): string {
  if (!foundOn || foundOn.length === 0) return 'not recorded';
  return foundOn.map((location) => `${location.host} — ${WHERE[location.state] ?? location.state}`).join('; ');
}

export function FoundOnLine({ foundOn }: { foundOn: VmLocation[] | undefined }) {
  const unanswered = foundOn?.some((location) => location.state === 'unreachable') ?? false;
  return (
    <p className={`found-on${unanswered ? ' partial' : ''}`} aria-label="Where the VM was found">
      <strong>VM found on:</strong> {foundOnText(foundOn)}
    </p>
  );
}
