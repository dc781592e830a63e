import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSshConfig } from '../../../src-main/core/ssh/config.js';
import { rejection } from '../../support/rejection.js';

let dir: string;
let configPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-ssh-hostname-'));
  configPath = join(dir, 'config');
  writeFileSync(
    configPath,
    [
      'Host optioned',
      '  HostName -oProxyCommand=touch_pwned',
      '',
      'Host dotted',
      '  HostName .hidden',
      '',
      'Host tokened',
      '  HostName %d',
      '',
      'Host v6',
      '  HostName fd00::5',
      '',
      'Host plain',
      '  HostName kvm1.lab.example',
      '',
    ].join('\n'),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('HostName from ~/.ssh/config', () => {
  it.each([
    ['optioned', '-oProxyCommand=touch_pwned'],
    ['dotted', '.hidden'],
  ])('refuses host %s whose HostName %j would not pass as a typed address', async (alias, hostName) => {
    const error = await rejection(resolveSshConfig(alias, { configPath, homeDir: '/home/u', localUser: 'u' }));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain(`the HostName ${JSON.stringify(hostName)}`);
    expect(error.message).toContain('must be a host name or an IP address');
    expect(error.hint).toContain(configPath);
  });

  it('checks the name after token expansion', async () => {
    const error = await rejection(resolveSshConfig('tokened', { configPath, homeDir: '/home/u', localUser: 'u' }));
    expect(error.message).toContain('"/home/u"');
  });

  it('refuses an alias with no HostName that is itself not an address', async () => {
    const error = await rejection(resolveSshConfig('-oProxyCommand=x', { configPath, homeDir: '/home/u', localUser: 'u' }));
    expect(error.code).toBe('invalid-input');
  });

  it('passes ordinary names and IPv6 addresses through', async () => {
    expect((await resolveSshConfig('v6', { configPath, homeDir: '/home/u', localUser: 'u' })).hostName).toBe('fd00::5');
    expect((await resolveSshConfig('plain', { configPath, homeDir: '/home/u', localUser: 'u' })).hostName).toBe('kvm1.lab.example');
  });
});
