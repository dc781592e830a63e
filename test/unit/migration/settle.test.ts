import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/errors.js';
import { finishLiveForward } from '../../../src-main/core/migration/forward-live.js';
import type { JournalEntry } from '../../../src-main/core/migration/journal.js';
import { finishForward, rollBack } from '../../../src-main/core/migration/recovery.js';
import type { UndoContext, UndoStep } from '../../../src-main/core/migration/undo.js';
import type { ExecResult, HostTransport } from '../../../src-main/core/ssh/transport.js';
import { FakeQmpServer, type ReceivedCommand } from '../qmp/fake-qmp-server.js';

// The settling rules decided against fake hosts (the layer below): which undo steps run, which
// wait, and how a committed live migration is pushed forwards. The lab tests do it for real.

type Qemu = (command: ReceivedCommand) => unknown;

/** A host whose shell answers "done" (or is out of reach) and whose QEMU monitors are scripted. */
class FakeHost extends EventEmitter {
  readonly commands: string[] = [];
  readonly monitors = new Map<string, Qemu>();
  readonly received: ReceivedCommand[] = [];
  unreachable = false;
  readonly state = { kind: 'connected' } as const;

  constructor(readonly label: string) {
    super();
  }

  async exec(command: string): Promise<ExecResult> {
    if (this.unreachable) throw new FerryError('connection-lost', `${this.label}: still reconnecting after 60 s`);
    this.commands.push(command);
    // A stop script finds no process (it is gone); everything else succeeds quietly.
    return { code: 0, stdout: command.includes('forget()') ? 'absent\n' : '', stderr: '' };
  }

  async run(command: string): Promise<string> {
    return (await this.exec(command)).stdout;
  }

  async openUnixSocket(path: string): Promise<Duplex> {
    if (this.unreachable) throw new FerryError('connection-lost', `${this.label}: unreachable`);
    const qemu = this.monitors.get(path);
    if (!qemu) throw new FerryError('connection-failed', `${this.label}: no socket ${path}`);
    const server = new FakeQmpServer();
    server.handler = (command) => {
      this.received.push(command);
      const answer = qemu(command);
      return answer instanceof Error ? { error: { class: 'GenericError', desc: answer.message }, id: command.id } : { return: answer ?? {}, id: command.id };
    };
    setImmediate(() => server.greet());
    return server.client;
  }

  named(name: string): ReceivedCommand[] {
    return this.received.filter((command) => command.execute === name);
  }
}

const asTransport = (host: FakeHost) => host as unknown as HostTransport;

function undoContext(hosts: Record<string, FakeHost>): UndoContext & { started: string[] } {
  const started: string[] = [];
  return {
    started,
    transport: async (name) => {
      const host = hosts[name];
      if (!host) throw new Error(`no host ${name}`);
      if (host.unreachable) throw new FerryError('connection-lost', `${name}: unreachable`);
      return asTransport(host);
    },
    startVm: async (host, vm) => {
      started.push(`${vm}@${host}`);
    },
    isVmRunning: async () => false,
  };
}

const liveSteps: UndoStep[] = [
  { kind: 'remove-file', host: 'b', path: '/var/lib/ferry/images/web.qcow2' },
  { kind: 'kill-qemu', host: 'b', pidFile: '/run/ferry/web.pid', qmpSocket: '/run/ferry/web.qmp' },
  { kind: 'cancel-source-migration', host: 'a', qmpSocket: '/run/ferry/web.qmp', nbdNodes: [] },
  { kind: 'resume-source', host: 'a', qmpSocket: '/run/ferry/web.qmp' },
];

/** A paused source QEMU: answers queries, counts what it is told. */
const pausedSource: Qemu = (command) => (command.execute === 'query-status' ? { status: 'paused', running: false } : command.execute === 'query-block-jobs' ? [] : {});

describe('rolling back', () => {
  it('resumes the source once the destination QEMU is confirmed gone', async () => {
    const a = new FakeHost('a');
    const b = new FakeHost('b');
    a.monitors.set('/run/ferry/web.qmp', pausedSource);
    const { remaining, problems } = await rollBack(liveSteps, undoContext({ a, b }));
    expect(problems).toEqual([]);
    expect(remaining).toEqual([]);
    expect(a.named('migrate_cancel')).toHaveLength(1);
    expect(a.named('cont')).toHaveLength(1);
    expect(b.commands.some((command) => command.includes('web.qcow2'))).toBe(true);
  });

  it('keeps the source paused when the destination cannot be reached, and asks that host only once', async () => {
    const a = new FakeHost('a');
    const b = new FakeHost('b');
    b.unreachable = true;
    a.monitors.set('/run/ferry/web.qmp', pausedSource);
    const { remaining, problems } = await rollBack(liveSteps, undoContext({ a, b }));
    expect(a.named('cont')).toEqual([]);
    expect(remaining.map((step) => step.kind)).toEqual(['remove-file', 'kill-qemu', 'resume-source']);
    expect(problems).toEqual([expect.stringContaining('b cannot be reached')]);
    // The source's own migration is still cancelled: that never makes a second copy.
    expect(a.named('migrate_cancel')).toHaveLength(1);
  });

  it('restarts an offline source when no destination QEMU was ever started, even if leftovers wait there', async () => {
    const a = new FakeHost('a');
    const b = new FakeHost('b');
    b.unreachable = true;
    const context = undoContext({ a, b });
    const steps: UndoStep[] = [
      { kind: 'restart-source', host: 'a', vm: 'web' },
      { kind: 'remove-file', host: 'b', path: '/var/lib/ferry/images/web.qcow2' },
    ];
    const { remaining } = await rollBack(steps, context);
    expect(context.started).toEqual(['web@a']);
    expect(remaining.map((step) => step.kind)).toEqual(['remove-file']);
  });
});

const entry = (overrides: Partial<JournalEntry> = {}): JournalEntry => ({
  id: 'm-1', vm: 'web', from: 'a', to: 'b', mode: 'live', startedAt: '2026-12-01T00:00:00Z', state: 'committed', doubt: null,
  owner: { pid: 1, bootId: 'x', machine: 'desk' }, sourceQmpSocket: '/run/ferry/web.qmp', destinationQmpSocket: '/run/ferry/web.qmp',
  destinationAddress: '10.0.0.2', undo: [], options: {},
  destinationDefinition: { name: 'web', memoryMiB: 64, vcpus: 1, machineType: 'pc-q35-7.2', cpuModel: 'qemu64', accel: 'tcg', disks: [], nic: null, createdAt: '2026-12-01T00:00:00Z' },
  ...overrides,
});

describe('finishing a committed live migration forwards', () => {
  it('lets a source waiting at pre-switchover continue, then starts the destination', async () => {
    const a = new FakeHost('a');
    const b = new FakeHost('b');
    let status = 'pre-switchover';
    a.monitors.set('/run/ferry/web.qmp', (command) => {
      if (command.execute === 'migrate-continue') status = 'completed';
      return command.execute === 'query-migrate' ? { status } : {};
    });
    b.monitors.set('/run/ferry/web.qmp', (command) => (command.execute === 'query-status' ? { status: 'paused', running: false } : command.execute === 'query-migrate' ? { status: 'completed' } : {}));
    await finishLiveForward(entry(), asTransport(a), asTransport(b), 10_000);
    expect(a.named('migrate-continue')).toHaveLength(1);
    expect(b.named('cont')).toHaveLength(1);
    expect(a.named('quit')).toHaveLength(1);
  });

  it('resumes a paused postcopy over a new connection, once per pause', async () => {
    const a = new FakeHost('a');
    const b = new FakeHost('b');
    let status = 'postcopy-paused';
    let listening: string | undefined;
    a.monitors.set('/run/ferry/web.qmp', (command) => {
      if (command.execute === 'migrate') status = 'completed';
      return command.execute === 'query-migrate' ? { status, ram: { transferred: 5 } } : {};
    });
    b.monitors.set('/run/ferry/web.qmp', (command) => {
      if (command.execute === 'migrate-recover') listening = String(command.arguments?.['uri']);
      if (command.execute === 'query-migrate') return status === 'completed' ? { status: 'completed' } : listening ? { status: 'postcopy-recover', 'socket-address': [{ port: listening.split(':').pop() }] } : { status: 'postcopy-paused' };
      return command.execute === 'query-status' ? { status: 'running', running: true } : {};
    });
    await finishLiveForward(entry(), asTransport(a), asTransport(b), 10_000);
    expect(b.named('migrate-recover').map((command) => command.arguments?.['uri'])).toEqual(['tcp:10.0.0.2:49152']);
    expect(a.named('migrate').map((command) => command.arguments)).toEqual([{ uri: 'tcp:10.0.0.2:49152', resume: true }]);
    // Already running there: nothing to start.
    expect(b.named('cont')).toEqual([]);
  });

  it('never starts a destination that has not received all of the memory', async () => {
    const a = new FakeHost('a');
    const b = new FakeHost('b');
    b.monitors.set('/run/ferry/web.qmp', (command) => (command.execute === 'query-migrate' ? { status: 'postcopy-paused' } : command.execute === 'query-status' ? { status: 'paused' } : {}));
    // The source's monitor is gone (no socket): its QEMU died.
    await expect(finishLiveForward(entry(), asTransport(a), asTransport(b), 10_000)).rejects.toThrow(/has not received all of its memory/);
    expect(b.named('cont')).toEqual([]);
  });

  it('says a migration is in doubt when QEMU reports it failed, and changes nothing', async () => {
    const a = new FakeHost('a');
    const b = new FakeHost('b');
    a.monitors.set('/run/ferry/web.qmp', (command) => (command.execute === 'query-migrate' ? { status: 'failed', 'error-desc': 'Unable to write to socket' } : {}));
    b.monitors.set('/run/ferry/web.qmp', () => ({}));
    await expect(finishLiveForward(entry(), asTransport(a), asTransport(b), 10_000)).rejects.toThrow(/reports the migration failed \(Unable to write to socket\)/);
    expect(a.named('cont')).toEqual([]);
    expect(b.named('cont')).toEqual([]);
  });
});

describe('finishing a committed offline migration forwards', () => {
  it('lets a destination that was started paused run, and stops a source that still holds the guest', async () => {
    const a = new FakeHost('a');
    const b = new FakeHost('b');
    b.monitors.set('/run/ferry/web.qmp', (command) => (command.execute === 'query-status' ? { status: 'prelaunch', running: false } : command.execute === 'query-migrate' ? { status: 'completed' } : {}));
    const context = { ...undoContext({ a, b }), isVmRunning: async (host: string) => host === 'b' };
    const settled = await finishForward(entry({ mode: 'offline', options: { keepState: true } }), context.transport, context, 10_000);
    expect(settled).toMatchObject({ outcome: 'completed', remaining: [] });
    expect(b.named('cont')).toHaveLength(1);
    expect(context.started).toEqual([]);
    // The source's stop script ran before its files were removed.
    const stop = a.commands.findIndex((command) => command.includes('forget()'));
    const removal = a.commands.findIndex((command) => command.includes('rm -f --') && !command.includes('forget()'));
    expect(stop).toBeGreaterThanOrEqual(0);
    expect(removal).toBeGreaterThan(stop);
  });
});
