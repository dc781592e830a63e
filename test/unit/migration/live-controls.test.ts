import { describe, expect, it } from 'vitest';
import { migrationInput } from '../../../src-main/core/api/contract.js';
import { LiveControls } from '../../../src-main/core/migration/live-controls.js';
import { rejection } from '../../support/rejection.js';

const options = (extra: Record<string, unknown> = {}) => migrationInput.parse({ vm: 'web', from: 'a', to: 'b', mode: 'live', ...extra });

/** The runner's source connection, as far as live controls use it. */
function source() {
  const calls: Array<{ command: string; args: Record<string, unknown> | undefined }> = [];
  return {
    calls,
    repeatable: async <T>(command: string, args?: Record<string, unknown>): Promise<T> => {
      calls.push({ command, args });
      return {} as T;
    },
  };
}

describe('LiveControls', () => {
  it('changes speed only through the connection the runner lent, and remembers the new values', async () => {
    const chosen = options({ postcopy: true });
    const controls = new LiveControls(chosen);
    expect((await rejection(controls.setSpeed({ bandwidthMiBps: 8 }))).code).toBe('busy');
    const lent = source();
    controls.lend(lent);
    await controls.setSpeed({ bandwidthMiBps: 8, downtimeMs: 50 });
    expect(lent.calls).toEqual([{ command: 'migrate-set-parameters', args: { 'max-bandwidth': 8 * 1024 * 1024, 'max-postcopy-bandwidth': 8 * 1024 * 1024, 'downtime-limit': 50 } }]);
    expect(chosen).toMatchObject({ bandwidthMiBps: 8, downtimeMs: 50 });
    controls.lend(undefined);
    expect((await rejection(controls.setSpeed({ downtimeMs: 10 }))).code).toBe('busy');
  });

  it('doubles Ferry\'s default downtime limit once per pass while memory does not converge, up to QEMU\'s 300 ms', async () => {
    const controls = new LiveControls(options());
    const lent = source();
    controls.lend(lent);
    expect(await controls.relaxDefaultDowntime(3)).toBe(200);
    // Not again in the same pass.
    expect(await controls.relaxDefaultDowntime(3)).toBeNull();
    expect(await controls.relaxDefaultDowntime(4)).toBe(300);
    expect(await controls.relaxDefaultDowntime(5)).toBeNull();
    expect(lent.calls.map((call) => call.args)).toEqual([{ 'downtime-limit': 200 }, { 'downtime-limit': 300 }]);
  });

  it('never touches a downtime limit the user chose, at the start or while it runs', async () => {
    const given = new LiveControls(options({ downtimeMs: 80 }));
    const lent = source();
    given.lend(lent);
    expect(await given.relaxDefaultDowntime(3)).toBeNull();
    const tuned = new LiveControls(options());
    tuned.lend(lent);
    await tuned.setSpeed({ downtimeMs: 40 });
    expect(await tuned.relaxDefaultDowntime(3)).toBeNull();
    expect(lent.calls).toEqual([{ command: 'migrate-set-parameters', args: { 'downtime-limit': 40 } }]);
  });

  it('postcopy only when the migration allows it, and only when asked', () => {
    const refused = new LiveControls(options());
    expect(() => refused.requestPostcopy()).toThrow(/without postcopy/);
    const allowed = new LiveControls(options({ postcopy: true }));
    expect(allowed.postcopyRequested).toBe(false);
    allowed.requestPostcopy();
    expect(allowed.postcopyRequested).toBe(true);
  });
});
