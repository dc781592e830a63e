import { randomUUID } from 'node:crypto';
import type { EngineEvents } from '../api/contract.js';
import { FerryError } from '../errors.js';
import type { HostTransport } from '../ssh/transport.js';
import { vmLayout } from '../vm/layout.js';
import { ConsoleSession, type ConsoleTarget } from './console-session.js';

export interface ConsoleServiceDeps {
  transport(host: string): Promise<HostTransport>;
  /** Whether the VM's QEMU is running (or paused), to tell "not running" from "no console socket". */
  isRunning(host: string, vm: string): Promise<boolean>;
  publish<E extends 'console-data' | 'console-closed'>(name: E, payload: EngineEvents[E]): void;
}

/** Front ends that do not say who they are (the CLI, tests) share this owner. */
export const DEFAULT_OWNER = 'engine';

/**
 * Every open console, by id. A console belongs to the front end that opened it: only that one can
 * write to or close it, and all of its consoles close when it goes away (closeOwner). They also
 * close when the VM stops (its socket closes) and when the host's connection drops (closeHost).
 */
export class ConsoleService {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(private readonly deps: ConsoleServiceDeps) {}

  async open(target: ConsoleTarget, owner: string = DEFAULT_OWNER): Promise<{ id: string }> {
    const transport = await this.deps.transport(target.host);
    const layout = vmLayout(target.vm);
    const socket = target.kind === 'serial' ? layout.serialSocket : layout.vncSocket;
    let stream;
    try {
      stream = await transport.openUnixSocket(socket);
    } catch (error) {
      throw await this.explainUnavailable(target, socket, error);
    }
    const id = randomUUID();
    const session = new ConsoleSession(id, target, owner, stream, {
      data: (sessionId, chunk) => this.deps.publish('console-data', { id: sessionId, data: chunk.toString('base64') }),
      closed: (sessionId, reason) => {
        this.sessions.delete(sessionId);
        this.deps.publish('console-closed', { id: sessionId, reason });
      },
    });
    this.sessions.set(id, session);
    return { id };
  }

  write(id: string, data: Buffer, owner: string = DEFAULT_OWNER): { written: number } {
    return { written: this.owned(id, owner).write(data) };
  }

  close(id: string, owner: string = DEFAULT_OWNER, reason = 'Closed'): { closed: string } {
    this.owned(id, owner).close(reason);
    return { closed: id };
  }

  /** The window or web page `owner` went away. */
  closeOwner(owner: string, reason = 'The window that opened it went away'): void {
    for (const session of [...this.sessions.values()]) if (session.owner === owner) session.close(reason);
  }

  closeHost(host: string, reason: string): void {
    for (const session of [...this.sessions.values()]) if (session.target.host === host) session.close(reason);
  }

  closeAll(reason = 'Ferry is shutting down'): void {
    for (const session of [...this.sessions.values()]) session.close(reason);
  }

  get openCount(): number {
    return this.sessions.size;
  }

  private owned(id: string, owner: string): ConsoleSession {
    const session = this.sessions.get(id);
    // Another front end's console is reported exactly like a closed one: ids are not to be probed.
    if (!session || session.owner !== owner) {
      throw new FerryError('not-found', `No open console ${id}`, { hint: 'It was closed (the VM stopped or the host dropped); open the console again.' });
    }
    return session;
  }

  private async explainUnavailable(target: ConsoleTarget, socket: string, cause: unknown): Promise<FerryError> {
    const running = await this.deps.isRunning(target.host, target.vm).catch(() => true);
    if (!running) {
      return new FerryError('unsupported', `${target.vm} is not running on ${target.host}, so it has no console`, { hint: 'Start the VM, then open its console.', cause });
    }
    if (target.kind === 'serial') {
      return new FerryError(
        'unsupported',
        `${target.vm} was started by an older Ferry that wrote its serial line only to a log, so its serial console is read-only`,
        { hint: 'Stop and start the VM (or migrate it) to get an interactive serial console.', cause, details: { socket, readOnlyLog: true } },
      );
    }
    return new FerryError('unsupported', `${target.vm} on ${target.host} has no VNC socket at ${socket}`, {
      hint: 'Stop and start the VM so Ferry starts it with its display.',
      cause,
      details: { socket },
    });
  }
}
