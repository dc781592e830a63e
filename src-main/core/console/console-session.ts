import type { Duplex } from 'node:stream';
import { FerryError } from '../errors.js';

export type ConsoleKind = 'serial' | 'vnc';

export interface ConsoleTarget {
  host: string;
  vm: string;
  kind: ConsoleKind;
}

/** Where a session's bytes and its end go (the service turns them into engine events). */
export interface ConsoleSink {
  data(id: string, chunk: Buffer): void;
  closed(id: string, reason: string): void;
}

/** The sentence a console ends with when the other side went away rather than being closed by us. */
export const ENDED_BY_VM = 'The VM stopped or closed the console';

/**
 * One open console: a byte stream to a VM's serial socket or VNC socket on its host, owned by the
 * front end (window, web page) that opened it. It ends exactly once, whoever ends it.
 */
export class ConsoleSession {
  private ended = false;

  constructor(
    readonly id: string,
    readonly target: ConsoleTarget,
    readonly owner: string,
    private readonly stream: Duplex,
    private readonly sink: ConsoleSink,
  ) {
    stream.on('data', (chunk: Buffer) => {
      if (!this.ended) sink.data(id, chunk);
    });
    stream.on('end', () => this.close(ENDED_BY_VM));
    stream.on('close', () => this.close(ENDED_BY_VM));
    stream.on('error', (error: Error) => this.close(`The console connection failed: ${error.message}`));
  }

  get open(): boolean {
    return !this.ended;
  }

  write(data: Buffer): number {
    if (this.ended) {
      throw new FerryError('not-found', `The ${this.target.kind} console of ${this.target.vm} is closed`, { hint: 'Open the console again.' });
    }
    this.stream.write(data);
    return data.length;
  }

  close(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stream.destroy();
    this.sink.closed(this.id, reason);
  }
}
