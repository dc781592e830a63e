import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hostSessionCommand, sudoRefused, withPrivilege } from '../../../src-main/core/ssh/privilege.js';

describe('withPrivilege', () => {
  it('leaves a root login alone and wraps a sudo login in one quoted sh -c', () => {
    const command = `printf '%s\\n' "it's $HOME" | wc -c`;
    expect(withPrivilege('login-user', command)).toBe(command);
    const wrapped = withPrivilege('sudo', command);
    expect(wrapped.startsWith('sudo -n -- sh -c ')).toBe(true);
    // The wrapped command reaches the inner shell word for word: run it with "sudo" as a stand-in.
    const inner = wrapped.replace(/^sudo -n -- /, '');
    expect(execFileSync('sh', ['-c', inner], { env: { HOME: '/h', PATH: process.env['PATH'] ?? '' } }).toString()).toBe(execFileSync('sh', ['-c', command], { env: { HOME: '/h', PATH: process.env['PATH'] ?? '' } }).toString());
  });

  it('starts the host session under sudo -n, which never waits for a password', () => {
    expect(hostSessionCommand('login-user')).toBe('exec sh -s');
    expect(hostSessionCommand('sudo')).toBe('exec sudo -n -- sh -s');
  });
});

describe('sudoRefused', () => {
  it('names the sudoers line for a user sudo asks a password of', () => {
    const error = sudoRefused('hv1', 'ops', { code: 1, stdout: '', stderr: 'sudo: a password is required\n' });
    expect(error.code).toBe('auth-failed');
    expect(error.message).toBe('hv1: ops cannot use sudo without a password (sudo said: sudo: a password is required)');
    expect(error.hint).toContain('ops ALL=(root) NOPASSWD: ALL');
  });

  it('says to install sudo where there is none', () => {
    const error = sudoRefused('hv1', 'ops', { code: 127, stdout: '', stderr: 'bash: line 1: sudo: command not found' });
    expect(error.message).toBe('hv1: sudo is not installed, so ops cannot run Ferry\'s commands as root');
    expect(error.hint).toContain('apt install sudo');
  });
});
