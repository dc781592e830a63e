import { describe, expect, it } from 'vitest';
import { SessionFrameParser, SessionProtocolError, type SessionFrame } from '../../../src-main/core/ssh/session-frames.js';

const stream = Buffer.concat([
  Buffer.from('ferry-session 1 4242\n'),
  Buffer.from('l 7   spaced line  \n'),
  Buffer.from('d 3 2 6 4 6 4\n'),
  Buffer.from('out\n\nxerr\n'),
  Buffer.from('d 9 0 0 0 20000000 0\n'),
  Buffer.from('l 7\n'),
]);

const expected: SessionFrame[] = [
  { kind: 'greeting', protocol: 1, pid: 4242 },
  { kind: 'line', id: 7, text: '  spaced line  ' },
  { kind: 'done', id: 3, code: 2, stdout: Buffer.from('out\n\nx'), stderr: Buffer.from('err\n'), stdoutTotal: 6, stderrTotal: 4 },
  { kind: 'done', id: 9, code: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), stdoutTotal: 20_000_000, stderrTotal: 0 },
  { kind: 'line', id: 7, text: '' },
];

describe('SessionFrameParser', () => {
  it('parses frames whole, whether the stream comes at once or a byte at a time; output may hold newlines', () => {
    expect(new SessionFrameParser().feed(stream)).toEqual(expected);
    const parser = new SessionFrameParser();
    const frames: SessionFrame[] = [];
    for (const byte of stream) frames.push(...parser.feed(Buffer.from([byte])));
    expect(frames).toEqual(expected);
  });

  it('refuses anything that is not a frame, so a broken session is ended rather than misread', () => {
    expect(() => new SessionFrameParser().feed(Buffer.from('bash: warning: setlocale\n'))).toThrow(SessionProtocolError);
    expect(() => new SessionFrameParser().feed(Buffer.from('d 1 x 0 0 0 0\n'))).toThrow(/unexpected output/);
    expect(() => new SessionFrameParser().feed(Buffer.alloc(70_000, 0x41))).toThrow(/without an end/);
  });
});

describe('SessionFrameParser with large output', () => {
  it('joins a frame arriving in many chunks once, and still parses what follows it', () => {
    const body = Buffer.alloc(8 * 1024 * 1024, 0x61);
    const stream = Buffer.concat([Buffer.from(`d 1 0 ${body.length} 0 ${body.length} 0\n`), body, Buffer.from('l 2 after\n')]);
    const parser = new SessionFrameParser();
    const frames: SessionFrame[] = [];
    for (let at = 0; at < stream.length; at += 16 * 1024) frames.push(...parser.feed(stream.subarray(at, at + 16 * 1024)));
    expect(frames).toHaveLength(2);
    expect(frames[0]).toMatchObject({ kind: 'done', id: 1, stdoutTotal: body.length });
    expect((frames[0] as Extract<SessionFrame, { kind: 'done' }>).stdout.equals(body)).toBe(true);
    expect(frames[1]).toEqual({ kind: 'line', id: 2, text: 'after' });
  });
});
