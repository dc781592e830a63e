import { afterEach, describe, expect, it } from 'vitest';
import { FerryError, isFerryError } from '../../../src-main/core/errors.js';
import { QmpClient, type QmpEvent } from '../../../src-main/core/qmp/index.js';
import { FakeQmpServer, GREETING } from './fake-qmp-server.js';
import { rejection } from '../../support/rejection.js';

const clients: QmpClient[] = [];

async function connected(server = new FakeQmpServer(), options: { commandTimeoutMs?: number } = {}): Promise<{ server: FakeQmpServer; client: QmpClient }> {
  const pending = QmpClient.connect(server.client, { timeoutMs: 1_000, ...options });
  server.greet();
  const client = await pending;
  clients.push(client);
  return { server, client };
}


afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('QmpClient negotiation', () => {
  it('reads the greeting, sends qmp_capabilities first, and is ready afterwards', async () => {
    const { server, client } = await connected();
    expect(client.state).toBe('ready');
    expect(client.greeting).toEqual(GREETING);
    expect(server.received.map((c) => c.execute)).toEqual(['qmp_capabilities']);
    expect(typeof server.received[0]?.id).toBe('string');
  });

  it('queues commands issued before the greeting and sends them after negotiation, in order', async () => {
    const server = new FakeQmpServer();
    const client = new QmpClient(server.client, { timeoutMs: 1_000 });
    clients.push(client);
    server.handler = (c) => ({ return: { echo: c.execute }, id: c.id });
    const first = client.execute('query-status');
    const second = client.execute('query-version');
    await new Promise((r) => setTimeout(r, 20));
    expect(server.received).toEqual([]);
    expect(client.state).toBe('awaiting-greeting');
    server.greet();
    await expect(first).resolves.toEqual({ echo: 'query-status' });
    await expect(second).resolves.toEqual({ echo: 'query-version' });
    expect(server.received.map((c) => c.execute)).toEqual(['qmp_capabilities', 'query-status', 'query-version']);
  });

  it('rejects queued commands clearly when negotiation fails', async () => {
    const server = new FakeQmpServer();
    server.autoNegotiate = false;
    server.handler = (c) => ({ error: { class: 'GenericError', desc: 'nope' }, id: c.id });
    const client = new QmpClient(server.client, { timeoutMs: 1_000 });
    const queued = client.execute('query-status');
    server.greet();
    const negotiation = await rejection(client.negotiated);
    expect(negotiation.code).toBe('qmp-error');
    const error = await rejection(queued);
    expect(error.code).toBe('qmp-disconnected');
    expect(error.message).toMatch(/negotiation failed/);
    expect(client.state).toBe('closed');
  });

  it('times out when no greeting arrives', async () => {
    const server = new FakeQmpServer();
    const error = await rejection(QmpClient.connect(server.client, { timeoutMs: 50 }));
    expect(error.code).toBe('qmp-timeout');
    expect(error.message).toMatch(/no greeting/);
  });

  it('fails with qmp-disconnected when the stream ends before the greeting', async () => {
    const server = new FakeQmpServer();
    const connecting = QmpClient.connect(server.client, { timeoutMs: 1_000 });
    server.server.end();
    expect((await rejection(connecting)).code).toBe('qmp-disconnected');
  });

  it('reports garbage before the greeting as a protocol error and still connects', async () => {
    const server = new FakeQmpServer();
    const client = new QmpClient(server.client, { timeoutMs: 1_000 });
    clients.push(client);
    const errors: FerryError[] = [];
    client.on('protocol-error', (e) => errors.push(e));
    server.sendRaw('login: \r\n');
    server.greet();
    await client.negotiated;
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('qmp-protocol');
  });
});

describe('QmpClient commands', () => {
  it('correlates out-of-order responses by id', async () => {
    const { server, client } = await connected();
    server.handler = () => undefined;
    const a = client.execute('a', { n: 1 });
    const b = client.execute('b', { n: 2 });
    const c = client.execute('c');
    await server.waitForCommands(4);
    const [, ca, cb, cc] = server.received;
    expect(new Set([ca?.id, cb?.id, cc?.id]).size).toBe(3);
    expect(ca?.arguments).toEqual({ n: 1 });
    expect(cc?.arguments).toBeUndefined();
    server.send({ return: 'C', id: cc?.id });
    server.send({ return: 'A', id: ca?.id });
    server.send({ return: 'B', id: cb?.id });
    await expect(Promise.all([a, b, c])).resolves.toEqual(['A', 'B', 'C']);
  });

  it('handles many concurrent commands answered in random order', async () => {
    const { server, client } = await connected();
    server.handler = () => undefined;
    const results = Array.from({ length: 50 }, (_, i) => client.execute('echo', { i }));
    await server.waitForCommands(51);
    const commands = server.received.slice(1).sort(() => Math.random() - 0.5);
    for (const command of commands) server.send({ return: command.arguments?.i, id: command.id });
    await expect(Promise.all(results)).resolves.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rejects with qmp-error carrying class, desc and command', async () => {
    const { server, client } = await connected();
    server.handler = (c) => ({ id: c.id, error: { class: 'DeviceNotFound', desc: "Device 'x' not found" } });
    const error = await rejection(client.execute('block-job-cancel', { device: 'x' }));
    expect(error.code).toBe('qmp-error');
    expect(error.details).toEqual({ class: 'DeviceNotFound', desc: "Device 'x' not found", command: 'block-job-cancel' });
  });

  it('times out, then ignores the late reply and keeps working', async () => {
    const { server, client } = await connected();
    const protocolErrors: FerryError[] = [];
    client.on('protocol-error', (e) => protocolErrors.push(e));
    server.handler = () => undefined;
    const error = await rejection(client.execute('slow', undefined, { timeoutMs: 30 }));
    expect(error.code).toBe('qmp-timeout');
    expect(error.details).toMatchObject({ command: 'slow', timeoutMs: 30 });
    const late = server.commandsNamed('slow')[0];
    server.handler = (c) => ({ return: 'fast', id: c.id });
    server.send({ return: 'too late', id: late?.id });
    await expect(client.execute('quick')).resolves.toBe('fast');
    expect(protocolErrors).toEqual([]);
    expect(client.state).toBe('ready');
  });

  it('validates the return value when given parse', async () => {
    const { server, client } = await connected();
    server.handler = (c) => ({ return: { status: 42 }, id: c.id });
    const parse = (value: unknown): { status: string } => {
      if (typeof value === 'object' && value !== null && 'status' in value && typeof value.status === 'string') return { status: value.status };
      throw new Error('not a status');
    };
    const error = await rejection(client.execute('query-status', undefined, { parse }));
    expect(error.code).toBe('qmp-protocol');
  });

  it('reports an error response without id as protocol-error and stays connected', async () => {
    const { server, client } = await connected();
    const errors: FerryError[] = [];
    client.on('protocol-error', (e) => errors.push(e));
    server.send({ error: { class: 'GenericError', desc: 'JSON parse error, expecting value' } });
    await expect(client.execute('query-status')).resolves.toEqual({});
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('qmp-protocol');
    expect(errors[0]?.details).toMatchObject({ class: 'GenericError' });
  });

  it('rejects commands whose arguments cannot be serialised without sending anything', async () => {
    const { server, client } = await connected();
    const error = await rejection(client.execute('x', { big: 1n }));
    expect(error.code).toBe('invalid-input');
    expect(server.received).toHaveLength(1);
  });
});

describe('QmpClient events', () => {
  it('delivers events that arrive between responses, in order, to emitter, iterator and waiter', async () => {
    const { server, client } = await connected();
    server.handler = () => undefined;
    const emitted: string[] = [];
    client.on('event', (e) => emitted.push(e.event));
    const stream = client.events(['STOP', 'RESUME']);
    const resumed = client.waitForEvent('RESUME', undefined, 1_000);
    const reply = client.execute('stop');
    await server.waitForCommands(2);
    server.sendEvent('STOP');
    server.sendEvent('MIGRATION', { status: 'active' });
    server.send({ return: {}, id: server.received[1]?.id });
    server.sendEvent('RESUME');
    await expect(reply).resolves.toEqual({});
    const stop = await stream.next();
    expect(stop.value).toEqual({ event: 'STOP', data: {}, timestamp: { seconds: 1_700_000_000, microseconds: 123 } });
    expect((await stream.next()).value?.event).toBe('RESUME');
    expect((await resumed).event).toBe('RESUME');
    expect(emitted).toEqual(['STOP', 'MIGRATION', 'RESUME']);
    await stream.return?.();
  });

  it('waitForEvent honours the predicate and times out with qmp-timeout', async () => {
    const { server, client } = await connected();
    const completed = client.waitForEvent('MIGRATION', (e) => e.data.status === 'completed', 1_000);
    server.sendEvent('MIGRATION', { status: 'active' });
    server.sendEvent('MIGRATION', { status: 'completed' });
    expect((await completed).data).toEqual({ status: 'completed' });
    const error = await rejection(client.waitForEvent('NEVER', undefined, 20));
    expect(error.code).toBe('qmp-timeout');
  });

  it('iterates with for await and stops on break', async () => {
    const { server, client } = await connected();
    const seen: QmpEvent[] = [];
    const loop = (async () => {
      for await (const event of client.events((e) => e.event.startsWith('BLOCK_JOB'))) {
        seen.push(event);
        if (event.event === 'BLOCK_JOB_COMPLETED') break;
      }
    })();
    server.sendEvent('BLOCK_JOB_READY', { device: 'd0' });
    server.sendEvent('STOP');
    server.sendEvent('BLOCK_JOB_COMPLETED', { device: 'd0' });
    await loop;
    expect(seen.map((e) => e.event)).toEqual(['BLOCK_JOB_READY', 'BLOCK_JOB_COMPLETED']);
  });

  it('ends the iterator on close() and throws qmp-disconnected on connection loss', async () => {
    const first = await connected();
    const closedStream = first.client.events();
    const nextAfterClose = closedStream.next();
    await first.client.close();
    await expect(nextAfterClose).resolves.toEqual({ value: undefined, done: true });

    const second = await connected();
    const lostStream = second.client.events();
    second.server.sendEvent('STOP');
    await new Promise((r) => setTimeout(r, 10));
    second.server.server.destroy();
    await new Promise((r) => setTimeout(r, 10));
    expect((await lostStream.next()).value?.event).toBe('STOP');
    const error = await rejection(lostStream.next());
    expect(error.code).toBe('qmp-disconnected');
  });
});

describe('QmpClient disconnect and close', () => {
  it('rejects every in-flight command with qmp-disconnected when the stream closes', async () => {
    const { server, client } = await connected();
    server.handler = () => undefined;
    const closes: FerryError[] = [];
    client.on('close', (reason) => closes.push(reason));
    const inFlight = [client.execute('a'), client.execute('b'), client.execute('c')];
    const waiter = client.waitForEvent('SHUTDOWN', undefined, 5_000);
    await server.waitForCommands(4);
    server.server.destroy();
    const errors = await Promise.all([...inFlight, waiter].map(rejection));
    expect(errors.map((e) => e.code)).toEqual(['qmp-disconnected', 'qmp-disconnected', 'qmp-disconnected', 'qmp-disconnected']);
    expect(errors.map((e) => e.details?.command).slice(0, 3)).toEqual(['a', 'b', 'c']);
    expect(closes).toHaveLength(1);
    expect(closes[0]?.code).toBe('qmp-disconnected');
    expect(client.state).toBe('closed');
    expect((await rejection(client.execute('after'))).code).toBe('qmp-disconnected');
  });

  it('close() ends the stream cleanly and rejects what was in flight', async () => {
    const { server, client } = await connected();
    server.handler = () => undefined;
    let serverSawEnd = false;
    server.server.on('end', () => {
      serverSawEnd = true;
    });
    const closes: FerryError[] = [];
    client.on('close', (reason) => closes.push(reason));
    const inFlight = client.execute('query-migrate');
    await server.waitForCommands(2);
    await client.close();
    expect(serverSawEnd).toBe(true);
    expect(server.client.destroyed).toBe(true);
    expect((await rejection(inFlight)).code).toBe('qmp-disconnected');
    expect(closes.map((c) => c.message)).toEqual(['QMP connection closed by Ferry']);
    await client.close();
  });

  it('a stream error is reported through close, not thrown', async () => {
    const { server, client } = await connected();
    server.handler = () => undefined;
    const reasons: FerryError[] = [];
    client.on('close', (reason) => reasons.push(reason));
    const inFlight = client.execute('x');
    server.client.destroy(new Error('channel reset'));
    const error = await rejection(inFlight);
    expect(isFerryError(error, 'qmp-disconnected')).toBe(true);
    expect(reasons[0]?.message).toMatch(/channel reset/);
  });
});
