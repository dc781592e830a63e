import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QmpFramer, type QmpFrame } from '../../../src-main/core/qmp/framing.js';

type JsonObject = Record<string, unknown>;

const jsonObject: fc.Arbitrary<JsonObject> = fc.dictionary(
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }),
  { maxKeys: 6 },
);

/** What a message looks like after a JSON round trip (-0 becomes 0, and so on). */
function normalised(value: JsonObject): unknown {
  return JSON.parse(JSON.stringify(value));
}

function encode(messages: readonly JsonObject[]): Buffer {
  return Buffer.from(messages.map((m) => `${JSON.stringify(m)}\r\n`).join(''), 'utf8');
}

/** Splits `bytes` at the given offsets (taken modulo the length, so any nat list is usable). */
function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  if (bytes.length === 0) return [bytes];
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let previous = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(previous, point));
    previous = point;
  }
  chunks.push(bytes.subarray(previous));
  return chunks;
}

function feed(framer: QmpFramer, chunks: readonly Buffer[]): QmpFrame[] {
  return [...chunks.flatMap((chunk) => framer.push(chunk)), ...framer.end()];
}

function messagesOf(frames: readonly QmpFrame[]): unknown[] {
  return frames.flatMap((f) => (f.kind === 'message' ? [f.message] : []));
}

function errorsOf(frames: readonly QmpFrame[]): QmpFrame[] {
  return frames.filter((f) => f.kind === 'error');
}

/** A line that is not a JSON object: not JSON at all, or JSON of another type. */
const garbageLine: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    fc.constantFrom('{', '}', '{"a":', 'null', '[]', '"QMP"', '{"unterminated": "x'),
  )
  .map((s) => s.replace(/[\r\n]/g, ' '))
  .filter((s) => {
    if (s.trim() === '') return false;
    try {
      const parsed: unknown = JSON.parse(s);
      return typeof parsed !== 'object' || parsed === null || Array.isArray(parsed);
    } catch {
      return true;
    }
  });

describe('QmpFramer', () => {
  it('parses any sequence of messages back identically, however the bytes are split', () => {
    fc.assert(
      fc.property(fc.array(jsonObject, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (messages, cuts) => {
        const frames = feed(new QmpFramer(), splitAt(encode(messages), cuts));
        expect(errorsOf(frames)).toEqual([]);
        expect(messagesOf(frames)).toEqual(messages.map(normalised));
      }),
      { numRuns: 300 },
    );
  });

  it('reports each garbage line and still delivers every valid message in order', () => {
    const line = fc.oneof(
      jsonObject.map((m) => ({ ok: true as const, message: m })),
      garbageLine.map((text) => ({ ok: false as const, text })),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 15 }), fc.array(fc.nat(), { maxLength: 20 }), (lines, cuts) => {
        const text = lines.map((l) => `${l.ok ? JSON.stringify(l.message) : l.text}\r\n`).join('');
        const frames = feed(new QmpFramer(), splitAt(Buffer.from(text, 'utf8'), cuts));
        expect(messagesOf(frames)).toEqual(lines.flatMap((l) => (l.ok ? [normalised(l.message)] : [])));
        expect(errorsOf(frames)).toHaveLength(lines.filter((l) => !l.ok).length);
        for (const error of errorsOf(frames)) {
          expect(error.kind === 'error' && error.error.code).toBe('qmp-protocol');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps multi-byte UTF-8 characters intact when a chunk boundary falls inside them', () => {
    const message = { event: 'NOTE', data: { text: 'Grüße 日本語 🚀🧪 ünïcödé', emoji: '👩‍👩‍👧' } };
    const bytes = encode([message, message]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const frames = feed(new QmpFramer(), [bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(messagesOf(frames)).toEqual([message, message]);
    }
    // One byte at a time: every character is split.
    const frames = feed(new QmpFramer(), [...bytes].map((b) => Buffer.from([b])));
    expect(messagesOf(frames)).toEqual([message, message]);
  });

  it('keeps arbitrary Unicode strings intact under arbitrary splits', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 40 }), (texts, cuts) => {
        const messages = texts.map((text) => ({ return: text, id: 'x' }));
        expect(messagesOf(feed(new QmpFramer(), splitAt(encode(messages), cuts)))).toEqual(messages);
      }),
    );
  });

  it('drops a line over the limit, reports it once, and carries on with the next line', () => {
    fc.assert(
      fc.property(
        fc.array(jsonObject, { maxLength: 4 }),
        fc.integer({ min: 1025, max: 5000 }),
        fc.array(jsonObject, { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (before, hugeLength, after, cuts) => {
          const framer = new QmpFramer({ maxLineBytes: 1024 });
          // The limit counts the CR of the line ending too.
          const small = [...before, ...after].filter((m) => Buffer.byteLength(`${JSON.stringify(m)}\r`) <= 1024);
          const smallBefore = before.filter((m) => small.includes(m));
          const smallAfter = after.filter((m) => small.includes(m));
          const huge = `{"return": "${'x'.repeat(hugeLength)}"}\r\n`;
          const bytes = Buffer.concat([encode(smallBefore), Buffer.from(huge), encode(smallAfter)]);
          const frames = feed(framer, splitAt(bytes, cuts));
          expect(messagesOf(frames)).toEqual([...smallBefore, ...smallAfter].map(normalised));
          expect(errorsOf(frames)).toHaveLength(1);
          expect(framer.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never buffers more than the limit while a 65 MiB line streams past under the default limit', () => {
    const framer = new QmpFramer();
    const chunk = Buffer.alloc(1024 * 1024, 0x78);
    const frames: QmpFrame[] = [...framer.push(Buffer.from('{"return": "'))];
    let peak = 0;
    for (let i = 0; i < 65; i++) {
      frames.push(...framer.push(chunk));
      peak = Math.max(peak, framer.bufferedBytes);
    }
    frames.push(...framer.push(Buffer.from('"}\r\n{"return": {}, "id": "after"}\r\n')));
    expect(peak).toBeLessThanOrEqual(64 * 1024 * 1024);
    expect(framer.bufferedBytes).toBe(0);
    expect(errorsOf(frames)).toHaveLength(1);
    expect(messagesOf(frames)).toEqual([{ return: {}, id: 'after' }]);
  });

  it('holds a partial line until its end arrives, and parses an unterminated last line at end()', () => {
    const framer = new QmpFramer();
    expect(framer.push(Buffer.from('{"return": {}, '))).toEqual([]);
    expect(framer.bufferedBytes).toBeGreaterThan(0);
    expect(messagesOf(framer.push(Buffer.from('"id": 1}\r\n{"return": 2}')))).toEqual([{ return: {}, id: 1 }]);
    expect(messagesOf(framer.end())).toEqual([{ return: 2 }]);
  });

  it('ignores blank lines and accepts bare LF endings', () => {
    const frames = feed(new QmpFramer(), [Buffer.from('\r\n\n  \r\n{"a":1}\n{"b":2}\r\n')]);
    expect(frames).toEqual([
      { kind: 'message', message: { a: 1 } },
      { kind: 'message', message: { b: 2 } },
    ]);
  });

  it('reports invalid UTF-8 as a protocol error', () => {
    const frames = feed(new QmpFramer(), [Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0d, 0x0a]), Buffer.from('{"ok":true}\r\n')]);
    expect(errorsOf(frames)).toHaveLength(1);
    expect(messagesOf(frames)).toEqual([{ ok: true }]);
  });
});
