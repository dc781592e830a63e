/**
 * Splits the byte stream from a QMP socket into JSON objects. QEMU writes exactly one object per
 * line, terminated by CRLF, so a line splitter is enough; bytes are only decoded once a whole line
 * is in hand, which is what keeps multi-byte UTF-8 characters split across reads intact.
 */
import { FerryError } from '../errors.js';
import { isRecord } from './messages.js';

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** How much of a bad line goes into the error, so a megabyte of garbage does not end up in a log. */
const PREVIEW_CHARS = 200;

export type QmpFrame =
  | { kind: 'message'; message: Record<string, unknown> }
  | { kind: 'error'; error: FerryError };

export interface QmpFramerOptions {
  /** Lines longer than this (counting a CR, not the LF) are discarded as they stream past. */
  maxLineBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;

export class QmpFramer {
  readonly maxLineBytes: number;
  private parts: Buffer[] = [];
  private size = 0;
  /** Set while the rest of an oversized line is being thrown away. */
  private discarding = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(options: QmpFramerOptions = {}) {
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isInteger(max) || max <= 0) throw new RangeError(`maxLineBytes must be a positive integer, got ${max}`);
    this.maxLineBytes = max;
  }

  /** Bytes of the current, incomplete line being held. Never exceeds maxLineBytes. */
  get bufferedBytes(): number {
    return this.size;
  }

  /** Feeds one chunk; returns every message (or error) completed by it, in stream order. */
  push(chunk: Uint8Array): QmpFrame[] {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const frames: QmpFrame[] = [];
    let start = 0;
    while (start < bytes.length) {
      const newline = bytes.indexOf(LF, start);
      const end = newline === -1 ? bytes.length : newline;
      if (!this.discarding) this.append(bytes.subarray(start, end), frames);
      if (newline === -1) break;
      if (this.discarding) this.discarding = false;
      else this.finishLine(frames);
      start = newline + 1;
    }
    return frames;
  }

  /**
   * Called at end of stream. A final line without its terminator is still parsed: losing a
   * complete object because the peer skipped the CRLF would help nobody.
   */
  end(): QmpFrame[] {
    const frames: QmpFrame[] = [];
    if (!this.discarding) this.finishLine(frames);
    this.discarding = false;
    this.parts = [];
    this.size = 0;
    return frames;
  }

  private append(piece: Buffer, frames: QmpFrame[]): void {
    if (piece.length === 0) return;
    if (this.size + piece.length > this.maxLineBytes) {
      // Reported now rather than at the newline, which might be a gigabyte away or never come.
      frames.push({
        kind: 'error',
        error: new FerryError('qmp-protocol', `QMP message longer than ${this.maxLineBytes} bytes was discarded`, {
          details: { maxLineBytes: this.maxLineBytes, preview: this.preview(headOf([...this.parts, piece], PREVIEW_CHARS * 4)) },
        }),
      });
      this.parts = [];
      this.size = 0;
      this.discarding = true;
      return;
    }
    this.parts.push(piece);
    this.size += piece.length;
  }

  private finishLine(frames: QmpFrame[]): void {
    if (this.size === 0) return;
    let line = this.parts.length === 1 && this.parts[0] !== undefined ? this.parts[0] : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    if (line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);

    let text: string;
    try {
      text = this.decoder.decode(line);
    } catch (cause) {
      frames.push({ kind: 'error', error: protocolError('QMP message is not valid UTF-8', this.preview(line), cause) });
      return;
    }
    if (text.trim() === '') return;

    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      frames.push({ kind: 'error', error: protocolError('QMP message is not valid JSON', text.slice(0, PREVIEW_CHARS), cause) });
      return;
    }
    if (!isRecord(parsed)) {
      frames.push({ kind: 'error', error: protocolError('QMP message is not a JSON object', text.slice(0, PREVIEW_CHARS)) });
      return;
    }
    frames.push({ kind: 'message', message: parsed });
  }

  private preview(bytes: Buffer): string {
    // Non-fatal decode: the preview is for humans and may end mid-character.
    return Buffer.from(bytes.subarray(0, PREVIEW_CHARS * 4)).toString('utf8').slice(0, PREVIEW_CHARS);
  }
}

/** The first `limit` bytes of a line held in pieces, without joining the whole (possibly huge) line. */
function headOf(parts: Buffer[], limit: number): Buffer {
  const taken: Buffer[] = [];
  let size = 0;
  for (const part of parts) {
    if (size >= limit) break;
    const slice = part.subarray(0, limit - size);
    taken.push(slice);
    size += slice.length;
  }
  return Buffer.concat(taken, size);
}

function protocolError(message: string, preview: string, cause?: unknown): FerryError {
  return new FerryError('qmp-protocol', message, { details: { preview }, ...(cause === undefined ? {} : { cause }) });
}
