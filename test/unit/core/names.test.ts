import { describe, expect, it } from 'vitest';
import { absolutePathSchema, hostNameSchema, isWithin, parseSize, poolNameSchema, sizeSchema, vmNameSchema, volumeNameSchema } from '../../../src-main/core/api/names.js';

const hostile = ['a;reboot', '$(id)', '`id`', '../../etc/x', '..', '.hidden', '-rf', '--help', 'a b', 'a/b', 'a\nb', "it's", 'a|b', 'a&b', '', 'x'.repeat(65), 'a..b', 'é'];
const fine = ['a', 'web-01', 'db_2', 'disk0.qcow2', 'A.B-c_d', '0', 'x'.repeat(64)];

describe('safe names', () => {
  for (const [what, schema] of [
    ['host', hostNameSchema],
    ['vm', vmNameSchema],
    ['pool', poolNameSchema],
    ['volume', volumeNameSchema],
  ] as const) {
    it.each(fine)(`${what} name %j is accepted unchanged`, (name) => {
      expect(schema.parse(name)).toBe(name);
    });
    it.each(hostile)(`${what} name %j is refused`, (name) => {
      const result = schema.safeParse(name);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/letters, digits/);
    });
  }

  it('names the kind of object in the message', () => {
    expect(vmNameSchema.safeParse('a;reboot').error?.issues[0]?.message).toMatch(/^VM names/);
    expect(poolNameSchema.safeParse('a;reboot').error?.issues[0]?.message).toMatch(/^Pool names/);
  });
});

describe('absolutePathSchema', () => {
  it.each([
    ['/var/lib/ferry/images', '/var/lib/ferry/images'],
    ['/var/lib/ferry/images/', '/var/lib/ferry/images'],
    ['/', '/'],
    ['/srv/a,b=c+d@e:f', '/srv/a,b=c+d@e:f'],
  ])('accepts %j as %j', (input, output) => {
    expect(absolutePathSchema.parse(input)).toBe(output);
  });

  it.each([
    ['relative/path', /absolute/],
    ['../../etc/x', /absolute/],
    ['/var/lib/../../etc/x', /normalised|\.\./],
    ['/var/lib/ferry/..', /normalised|\.\./],
    ['/var/./lib', /normalised/],
    ['/var//lib', /normalised/],
    ['/var/lib/my disk.qcow2', /no spaces/],
    ['/tmp/$(id)', /shell/],
    ['/tmp/a;reboot', /shell/],
    ['/tmp/a\nb', /shell/],
    ['', /./],
  ])('refuses %j', (input, message) => {
    const result = absolutePathSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message).join(' ')).toMatch(message);
  });

  it('tells whether one normalised path lies within another', () => {
    expect(isWithin('/var/lib/ferry', '/var/lib/ferry')).toBe(true);
    expect(isWithin('/var/lib/ferry', '/var/lib/ferry/images/x')).toBe(true);
    expect(isWithin('/var/lib/ferry', '/var/lib/ferry2')).toBe(false);
    expect(isWithin('/', '/etc')).toBe(true);
  });
});

describe('parseSize', () => {
  it.each([
    ['512', 512],
    ['1B', 1],
    ['1K', 1024],
    ['1k', 1024],
    ['1KiB', 1024],
    ['1KB', 1000],
    ['10M', 10 * 1024 ** 2],
    ['512MiB', 512 * 1024 ** 2],
    ['1G', 1024 ** 3],
    ['1.5 GiB', 1.5 * 1024 ** 3],
    ['2GB', 2e9],
    ['1T', 1024 ** 4],
    [' 3 M ', 3 * 1024 ** 2],
  ])('%j is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([
    ['', /not a size/],
    ['abc', /not a size/],
    ['-1G', /not a size/],
    ['1e3', /not a size/],
    ['10X', /not a size unit/],
    ['10PB', /not a size unit/],
    ['0', /positive/],
    ['0.0001', /positive/],
    ['99999999999T', /positive/],
  ])('refuses %j', (text, message) => {
    expect(() => parseSize(text)).toThrow(message);
  });

  it('is what sizeSchema uses for strings; numbers must be positive integers', () => {
    expect(sizeSchema.parse('1G')).toBe(1024 ** 3);
    expect(sizeSchema.parse(4096)).toBe(4096);
    expect(sizeSchema.safeParse(0).success).toBe(false);
    expect(sizeSchema.safeParse(1.5).success).toBe(false);
    expect(sizeSchema.safeParse('10X').error?.issues.map((issue) => issue.message).join(' ')).toMatch(/not a size unit/);
  });
});
