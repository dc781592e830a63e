import type { ConsoleStream } from './console-stream';

type Handler<E> = ((event: E) => void) | null;

// WebSocket's readyState numbers, which noVNC compares against.
const OPEN = 1;
const CLOSED = 3;

/**
 * What noVNC's RFB takes instead of a URL: an object shaped like an open WebSocket. Its bytes are a
 * console stream's, so VNC travels over Ferry's own call/event API and SSH, with no port opened
 * anywhere. noVNC checks for these exact property names, so they stay as they are.
 */
export class VncChannel {
  binaryType = 'arraybuffer';
  protocol = '';
  readyState = OPEN;
  onopen: Handler<Event> = null;
  onclose: Handler<{ code: number; reason: string; wasClean: boolean }> = null;
  onerror: Handler<Event> = null;
  private receiver: Handler<{ data: ArrayBuffer }> = null;
  private readonly waiting: ArrayBuffer[] = [];

  constructor(private readonly stream: ConsoleStream) {
    stream.listen({
      data: (bytes) => this.deliver(bytes.slice().buffer),
      closed: (reason) => this.ended(reason),
    });
  }

  // An accessor, so bytes that came before noVNC attached are handed over as soon as it does.
  get onmessage(): Handler<{ data: ArrayBuffer }> {
    return this.receiver;
  }

  set onmessage(handler: Handler<{ data: ArrayBuffer }>) {
    this.receiver = handler;
    if (handler && this.waiting.length > 0) queueMicrotask(() => this.waiting.splice(0).forEach((data) => this.receiver?.({ data })));
  }

  send(data: ArrayBuffer | ArrayBufferView): void {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // noVNC reuses its send buffer, so the bytes are copied before they leave.
    this.stream.write(bytes.slice());
  }

  close(): void {
    if (this.readyState === CLOSED) return;
    this.stream.close();
    this.ended('Closed');
  }

  private deliver(data: ArrayBuffer): void {
    if (this.receiver && this.waiting.length === 0) this.receiver({ data });
    else this.waiting.push(data);
  }

  private ended(reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.onclose?.({ code: 1000, reason, wasClean: true });
  }
}
