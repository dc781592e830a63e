import { EventEmitter } from 'node:events';
import { Duplex, PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { EngineEvents } from '../../../src-main/core/api/contract.js';
import { ConsoleService } from '../../../src-main/core/console/console-service.js';
import { ENDED_BY_VM } from '../../../src-main/core/console/console-session.js';
import { FerryError } from '../../../src-main/core/errors.js';
import type { HostTransport } from '../../../src-main/core/ssh/transport.js';

/** The layer below, faked: a host whose UNIX sockets are in-memory pipes to a pretend guest. */
function fakeHost(existing: string[]) {
  const guests = new Map<string, { toGuest: PassThrough; fromGuest: PassThrough; engineEnd: Duplex }>();
  const transport = Object.assign(new EventEmitter(), {
    label: 'fake',
    openUnixSocket: async (path: string) => {
      if (!existing.includes(path)) throw new FerryError('connection-failed', `open failed: ${path}`);
      const toGuest = new PassThrough();
      const fromGuest = new PassThrough();
      const engineEnd = Duplex.from({ readable: fromGuest, writable: toGuest });
      guests.set(path, { toGuest, fromGuest, engineEnd });
      return engineEnd;
    },
  }) as unknown as HostTransport;
  return { transport, guests };
}

function setup(existing = ['/run/ferry/vm1.serial', '/run/ferry/vm1.vnc'], running = true) {
  const host = fakeHost(existing);
  const events: Array<{ name: string; payload: EngineEvents['console-data'] | EngineEvents['console-closed'] }> = [];
  const service = new ConsoleService({
    transport: async () => host.transport,
    isRunning: async () => running,
    publish: (name, payload) => events.push({ name, payload }),
  });
  const dataOf = (id: string) =>
    events
      .filter((e) => e.name === 'console-data' && e.payload.id === id)
      .map((e) => Buffer.from((e.payload as EngineEvents['console-data']).data, 'base64').toString())
      .join('');
  const closedOf = (id: string) => events.filter((e) => e.name === 'console-closed' && e.payload.id === id).map((e) => (e.payload as EngineEvents['console-closed']).reason);
  return { service, events, guests: host.guests, dataOf, closedOf };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ConsoleService', () => {
  it('connects a serial console to the serial socket: guest bytes become console-data, writes reach the guest', async () => {
    const { service, guests, dataOf } = setup();
    const { id } = await service.open({ host: 'a', vm: 'vm1', kind: 'serial' }, 'window-1');
    const guest = guests.get('/run/ferry/vm1.serial');
    expect(guest).toBeDefined();
    guest?.fromGuest.write('login: ');
    await tick();
    expect(dataOf(id)).toBe('login: ');
    const received: Buffer[] = [];
    guest?.toGuest.on('data', (chunk: Buffer) => received.push(chunk));
    expect(service.write(id, Buffer.from('hello\r'), 'window-1')).toEqual({ written: 6 });
    await tick();
    expect(Buffer.concat(received).toString()).toBe('hello\r');
  });

  it('connects a vnc console to the VNC socket', async () => {
    const { service, guests, dataOf } = setup();
    const { id } = await service.open({ host: 'a', vm: 'vm1', kind: 'vnc' });
    guests.get('/run/ferry/vm1.vnc')?.fromGuest.write('RFB 003.008\n');
    await tick();
    expect(dataOf(id)).toBe('RFB 003.008\n');
  });

  it('closes once with a reason when the VM side ends, and then refuses writes', async () => {
    const { service, guests, closedOf } = setup();
    const { id } = await service.open({ host: 'a', vm: 'vm1', kind: 'serial' });
    guests.get('/run/ferry/vm1.serial')?.fromGuest.end();
    await tick();
    await tick();
    expect(closedOf(id)).toEqual([ENDED_BY_VM]);
    expect(service.openCount).toBe(0);
    expect(() => service.write(id, Buffer.from('x'))).toThrow(/No open console/);
  });

  it('a console belongs to its opener: another owner can neither write to nor close it', async () => {
    const { service, closedOf } = setup();
    const { id } = await service.open({ host: 'a', vm: 'vm1', kind: 'serial' }, 'window-1');
    expect(() => service.write(id, Buffer.from('x'), 'web-2')).toThrow(/No open console/);
    expect(() => service.close(id, 'web-2')).toThrow(/No open console/);
    expect(closedOf(id)).toEqual([]);
    service.close(id, 'window-1');
    expect(closedOf(id)).toEqual(['Closed']);
  });

  it('closes every console of a front end that went away, and only those', async () => {
    const { service, closedOf } = setup();
    const mine = await service.open({ host: 'a', vm: 'vm1', kind: 'serial' }, 'web-1');
    const mineToo = await service.open({ host: 'a', vm: 'vm1', kind: 'vnc' }, 'web-1');
    const other = await service.open({ host: 'a', vm: 'vm1', kind: 'serial' }, 'web-2');
    service.closeOwner('web-1');
    expect(closedOf(mine.id)).toEqual(['The window that opened it went away']);
    expect(closedOf(mineToo.id)).toHaveLength(1);
    expect(closedOf(other.id)).toEqual([]);
    expect(service.openCount).toBe(1);
  });

  it('closes the consoles of a host whose connection dropped', async () => {
    const { service, guests, closedOf } = setup();
    const { id } = await service.open({ host: 'a', vm: 'vm1', kind: 'serial' });
    let guestSawEnd = false;
    guests.get('/run/ferry/vm1.serial')?.engineEnd.on('close', () => (guestSawEnd = true));
    service.closeHost('b', 'The connection to b dropped');
    expect(closedOf(id)).toEqual([]);
    service.closeHost('a', 'The connection to a dropped');
    await tick();
    expect(closedOf(id)).toEqual(['The connection to a dropped']);
    expect(guestSawEnd).toBe(true);
  });

  it('says a running VM without a serial socket was started by an older Ferry (read-only log)', async () => {
    const { service } = setup(['/run/ferry/vm1.vnc']);
    const error = await service.open({ host: 'a', vm: 'vm1', kind: 'serial' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('unsupported');
    expect((error as FerryError).message).toMatch(/older Ferry .* read-only/);
    expect((error as FerryError).details).toMatchObject({ readOnlyLog: true });
  });

  it('says a stopped VM has no console', async () => {
    const { service } = setup([], false);
    await expect(service.open({ host: 'a', vm: 'vm1', kind: 'vnc' })).rejects.toThrow(/vm1 is not running on a/);
  });
});
