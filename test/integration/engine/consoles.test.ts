import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../../src-main/core/api/contract.js';
import { ENDED_BY_VM } from '../../../src-main/core/console/console-session.js';
import { FerryError } from '../../../src-main/core/errors.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { LOCAL_DIR, ensurePools, removeGuest, serialText, startGuest, uniqueName, waitFor } from '../migration/guest.js';

// Both consoles against a real lab guest over real SSH: the serial line both ways (the guest echoes
// each line it reads), the VNC socket's greeting, and how consoles end.
let le: LabEngine;
const vm = uniqueName('cons-int');
let diskPath = '';
const events: EngineEvent[] = [];

beforeAll(async () => {
  le = await labEngine();
  await ensurePools(le);
  le.engine.onEvent((event) => events.push(event));
  ({ diskPath } = await startGuest(le, { host: 'a', name: vm, directory: LOCAL_DIR, memoryMiB: 128 }));
}, 120_000);

afterAll(async () => {
  await removeGuest(le, vm, [diskPath]).catch(() => undefined);
  await le.engine.close();
});

const received = (id: string) =>
  events
    .flatMap((event) => (event.name === 'console-data' && event.payload.id === id ? [Buffer.from(event.payload.data, 'base64')] : []))
    .map((chunk) => chunk.toString('latin1'))
    .join('');
const closedReason = (id: string) => events.flatMap((event) => (event.name === 'console-closed' && event.payload.id === id ? [event.payload.reason] : []));

describe('consoles of a running lab VM', () => {
  it('serial: the guest lines arrive, a typed line reaches the guest, and the serial log still gets everything', async () => {
    const { id } = await le.engine.call('consoles.open', { host: 'a', name: vm, kind: 'serial' });
    await waitFor(async () => /ferry-heartbeat \d+/.test(received(id)), 20_000, 'heartbeats on the serial console');
    const word = `cons-${randomBytes(4).toString('hex')}`;
    await le.engine.call('consoles.write', { id, data: Buffer.from(`${word}\r`).toString('base64') });
    await waitFor(async () => received(id).includes(`ferry-echo: ${word}`), 20_000, 'the guest echoing the typed line');
    // With a client connected, QEMU still appends to the log that the heartbeat probe and vms.serial read.
    await waitFor(async () => (await serialText(le, 'a', vm)).includes(`ferry-echo: ${word}`), 10_000, 'the echo in the serial log');
    await le.engine.call('consoles.close', { id });
    expect(closedReason(id)).toEqual(['Closed']);
    // And without one.
    const before = (await serialText(le, 'a', vm)).length;
    await waitFor(async () => (await serialText(le, 'a', vm)).length > before + 100, 10_000, 'the serial log growing with no console open');
  });

  it('vnc: the VNC socket greets with the RFB version', async () => {
    const { id } = await le.engine.call('consoles.open', { host: 'a', name: vm, kind: 'vnc' });
    await waitFor(async () => received(id).startsWith('RFB 003.008\n'), 20_000, 'the RFB greeting');
    await le.engine.call('consoles.close', { id });
  });

  it('a VM without a serial socket (started by an older Ferry) is refused with the read-only sentence', async () => {
    const socket = `/run/ferry/${vm}.serial`;
    // QEMU keeps serving the bound socket; only its name goes, as if it had never been made.
    await le.sh('a', `mv ${socket} ${socket}.hidden`);
    try {
      const error = await le.engine.call('consoles.open', { host: 'a', name: vm, kind: 'serial' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FerryError);
      expect((error as FerryError).message).toMatch(/older Ferry .* read-only/);
      expect((error as FerryError).details).toMatchObject({ readOnlyLog: true });
    } finally {
      await le.sh('a', `mv ${socket}.hidden ${socket}`);
    }
  });

  it('an open console ends when the VM stops, and a stopped VM has none to open', async () => {
    const { id } = await le.engine.call('consoles.open', { host: 'a', name: vm, kind: 'vnc' });
    await waitFor(async () => received(id).length > 0, 20_000, 'the RFB greeting');
    await le.engine.call('vms.destroy', { host: 'a', name: vm });
    await waitFor(async () => closedReason(id).length > 0, 20_000, 'console-closed after the VM stopped');
    expect(closedReason(id)).toEqual([ENDED_BY_VM]);
    expect(le.engine.consoles.openCount).toBe(0);
    await expect(le.engine.call('consoles.open', { host: 'a', name: vm, kind: 'serial' })).rejects.toThrow(/is not running/);
  });
});
