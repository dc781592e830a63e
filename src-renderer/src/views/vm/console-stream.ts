import type { EngineEvent, FerryApi } from '../../api/types';

export type ConsoleKind = 'serial' | 'vnc';

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  // In slices: String.fromCharCode with a whole VNC frame as arguments would overflow the stack.
  for (let offset = 0; offset < bytes.length; offset += 0x8000) binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  return btoa(binary);
}

export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

const MIN_OVERLAP = 8;

/**
 * How many leading bytes of `live` the log tail already ends with. The console is opened before the
 * log is read (so nothing falls between them), and QEMU writes the same bytes to both; this is the
 * part that would otherwise be shown twice.
 */
export function overlapLength(tail: Uint8Array, live: Uint8Array): number {
  // A short match ("\r\n", a prompt) is as likely chance as overlap; showing a few bytes twice is
  // better than hiding a few.
  for (let length = Math.min(tail.length, live.length); length >= MIN_OVERLAP; length -= 1) {
    let same = true;
    for (let index = 0; index < length && same; index += 1) same = tail[tail.length - length + index] === live[index];
    if (same) return length;
  }
  return 0;
}

export interface ConsoleListener {
  data(bytes: Uint8Array): void;
  closed(reason: string): void;
}

/**
 * One open console as the renderer sees it: 'consoles.open', then the 'console-data' events of its
 * id. Events that arrive before a listener is attached are kept, so nothing from the first moment
 * (noVNC needs the server's greeting) is lost.
 */
export class ConsoleStream {
  private listener: ConsoleListener | null = null;
  private readonly early: Array<{ data: Uint8Array } | { reason: string }> = [];
  private ended = false;

  private constructor(
    private readonly api: FerryApi,
    readonly id: string,
    private readonly stopListening: () => void,
  ) {}

  static async open(api: FerryApi, host: string, name: string, kind: ConsoleKind): Promise<ConsoleStream> {
    const before: EngineEvent[] = [];
    let stream: ConsoleStream | null = null;
    // Listening starts before the call, so the first bytes cannot slip past.
    const stop = api.onEvent((event) => {
      if (stream) stream.receive(event);
      else if (event.name === 'console-data' || event.name === 'console-closed') before.push(event);
    });
    try {
      const { id } = await api.call('consoles.open', { host, name, kind });
      stream = new ConsoleStream(api, id, stop);
      for (const event of before) stream.receive(event);
      return stream;
    } catch (error) {
      stop();
      throw error;
    }
  }

  listen(listener: ConsoleListener): void {
    this.listener = listener;
    for (const item of this.early.splice(0)) {
      if ('data' in item) listener.data(item.data);
      else listener.closed(item.reason);
    }
  }

  get open(): boolean {
    return !this.ended;
  }

  write(bytes: Uint8Array): void {
    if (this.ended || bytes.length === 0) return;
    void this.api.call('consoles.write', { id: this.id, data: bytesToBase64(bytes) }).catch(() => undefined);
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopListening();
    void this.api.call('consoles.close', { id: this.id }).catch(() => undefined);
  }

  private receive(event: EngineEvent): void {
    if (event.name === 'console-data' && event.payload.id === this.id) {
      const data = base64ToBytes(event.payload.data);
      if (this.listener) this.listener.data(data);
      else this.early.push({ data });
    } else if (event.name === 'console-closed' && event.payload.id === this.id) {
      this.ended = true;
      this.stopListening();
      if (this.listener) this.listener.closed(event.payload.reason);
      else this.early.push({ reason: event.payload.reason });
    }
  }
}
