/**
 * An in-memory stand-in for QEMU's QMP socket: a connected Duplex pair, with the server end
 * scripted by each test. Unit tests only — the integration suite talks to a real QEMU.
 */
import { Duplex } from 'node:stream';
import { QmpFramer } from '../../../src-main/core/qmp/framing.js';
import { isRecord } from '../../../src-main/core/qmp/messages.js';

class PairEnd extends Duplex {
  peer: PairEnd | undefined;

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.peer?.push(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.peer?.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Like a socket: tearing one end down is seen by the other as EOF followed by close.
    const peer = this.peer;
    this.peer = undefined;
    if (peer !== undefined && !peer.destroyed) {
      peer.push(null);
      setImmediate(() => peer.destroy());
    }
    callback(error);
  }
}

export function duplexPair(): [PairEnd, PairEnd] {
  const a = new PairEnd();
  const b = new PairEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export interface ReceivedCommand {
  execute: string;
  arguments: Record<string, unknown> | undefined;
  id: unknown;
}

export const GREETING = {
  QMP: { version: { qemu: { major: 7, minor: 2, micro: 22 }, package: 'Debian 1:7.2+dfsg-7+deb12u18+b3' }, capabilities: ['oob'] },
};

export class FakeQmpServer {
  readonly client: Duplex;
  readonly server: PairEnd;
  readonly received: ReceivedCommand[] = [];
  /** Raw lines that did not parse as commands. */
  readonly garbage: string[] = [];
  private readonly framer = new QmpFramer();
  private waiters: { count: number; resolve: () => void }[] = [];
  /** Called for every command after negotiation; return undefined to leave it unanswered. */
  handler: (command: ReceivedCommand) => Record<string, unknown> | undefined = (command) => ({ return: {}, id: command.id });
  /** When true, qmp_capabilities is answered automatically. */
  autoNegotiate = true;

  constructor() {
    const [client, server] = duplexPair();
    this.client = client;
    this.server = server;
    server.on('data', (chunk: Buffer) => {
      for (const frame of this.framer.push(chunk)) {
        if (frame.kind === 'error') {
          this.garbage.push(frame.error.message);
          continue;
        }
        const { message } = frame;
        if (typeof message.execute !== 'string') {
          this.garbage.push(JSON.stringify(message));
          continue;
        }
        const command: ReceivedCommand = {
          execute: message.execute,
          arguments: isRecord(message.arguments) ? message.arguments : undefined,
          id: message.id,
        };
        this.received.push(command);
        this.waiters = this.waiters.filter((w) => {
          if (this.received.length < w.count) return true;
          w.resolve();
          return false;
        });
        const reply = command.execute === 'qmp_capabilities' && this.autoNegotiate ? { return: {}, id: command.id } : this.handler(command);
        if (reply !== undefined) this.send(reply);
      }
    });
    // Like QEMU: when the client hangs up, close our side too.
    server.on('end', () => {
      if (!server.writableEnded) server.end();
    });
    server.on('error', () => undefined);
    client.on('error', () => undefined);
  }

  greet(greeting: unknown = GREETING): void {
    this.send(greeting);
  }

  send(message: unknown): void {
    this.sendRaw(`${JSON.stringify(message)}\r\n`);
  }

  sendRaw(text: string | Buffer): void {
    this.server.write(text);
  }

  sendEvent(event: string, data?: Record<string, unknown>): void {
    this.send({ event, ...(data === undefined ? {} : { data }), timestamp: { seconds: 1_700_000_000, microseconds: 123 } });
  }

  /** Resolves once `count` commands (including qmp_capabilities) have arrived. */
  waitForCommands(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  commandsNamed(name: string): ReceivedCommand[] {
    return this.received.filter((c) => c.execute === name);
  }
}
