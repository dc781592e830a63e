/** What the host session program writes on stdout, parsed from a byte stream of any chunking. */
export type SessionFrame =
  | { kind: 'greeting'; protocol: number; pid: number }
  | { kind: 'line'; id: number; text: string }
  | { kind: 'done'; id: number; code: number; stdout: Buffer; stderr: Buffer; stdoutTotal: number; stderrTotal: number };

/** The stream did not follow the protocol; the session cannot be trusted after this. */
export class SessionProtocolError extends Error {}

const MAX_HEADER_BYTES = 64 * 1024;

/**
 * Incremental parser: feed() chunks as they come, frames come out whole. A `done` frame's
 * output bytes follow its header line, sized by it, so output may hold any bytes.
 */
export class SessionFrameParser {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: Buffer[] = [];
  private waitingBytes = 0;
  private pending: { header: Omit<Extract<SessionFrame, { kind: 'done' }>, 'stdout' | 'stderr'>; stdoutLength: number; stderrLength: number } | undefined;

  feed(chunk: Buffer): SessionFrame[] {
    // While a frame's output is still coming, chunks are only collected: joining them once it is
    // whole keeps a large output linear in its size.
    if (this.pending !== undefined && this.waiting.length > 0) {
      this.waiting.push(chunk);
      this.waitingBytes += chunk.length;
      if (this.waitingBytes < this.pending.stdoutLength + this.pending.stderrLength) return [];
      chunk = Buffer.concat(this.waiting, this.waitingBytes);
      this.waiting = [];
      this.waitingBytes = 0;
    }
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: SessionFrame[] = [];
    for (;;) {
      if (this.pending !== undefined) {
        const { header, stdoutLength, stderrLength } = this.pending;
        if (this.buffer.length < stdoutLength + stderrLength) {
          this.waiting = [this.buffer];
          this.waitingBytes = this.buffer.length;
          this.buffer = Buffer.alloc(0);
          break;
        }
        const stdout = Buffer.from(this.buffer.subarray(0, stdoutLength));
        const stderr = Buffer.from(this.buffer.subarray(stdoutLength, stdoutLength + stderrLength));
        this.buffer = this.buffer.subarray(stdoutLength + stderrLength);
        this.pending = undefined;
        frames.push({ ...header, stdout, stderr });
        continue;
      }
      const end = this.buffer.indexOf(0x0a);
      if (end === -1) {
        if (this.buffer.length > MAX_HEADER_BYTES) throw new SessionProtocolError(`a line of over ${MAX_HEADER_BYTES} bytes without an end`);
        break;
      }
      const line = this.buffer.subarray(0, end).toString('utf8');
      this.buffer = this.buffer.subarray(end + 1);
      const frame = this.parseLine(line);
      if (frame !== undefined) frames.push(frame);
    }
    return frames;
  }

  private parseLine(line: string): SessionFrame | undefined {
    if (line.startsWith('l ')) {
      const space = line.indexOf(' ', 2);
      const id = wholeNumber(space === -1 ? line.slice(2) : line.slice(2, space), line);
      return { kind: 'line', id, text: space === -1 ? '' : line.slice(space + 1) };
    }
    const words = line.split(' ');
    if (words[0] === 'd' && words.length === 7) {
      const [id, code, stdoutLength, stderrLength, stdoutTotal, stderrTotal] = words.slice(1).map((word) => wholeNumber(word, line)) as [number, number, number, number, number, number];
      this.pending = { header: { kind: 'done', id, code, stdoutTotal, stderrTotal }, stdoutLength, stderrLength };
      return undefined;
    }
    if (words[0] === 'ferry-session' && words.length === 3) {
      return { kind: 'greeting', protocol: wholeNumber(words[1] ?? '', line), pid: wholeNumber(words[2] ?? '', line) };
    }
    throw new SessionProtocolError(`unexpected output from the host session: ${JSON.stringify(line.slice(0, 200))}`);
  }
}

function wholeNumber(word: string, line: string): number {
  if (!/^\d{1,15}$/.test(word)) throw new SessionProtocolError(`unexpected output from the host session: ${JSON.stringify(line.slice(0, 200))}`);
  return Number(word);
}
