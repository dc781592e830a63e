// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HostSummary } from '../../../src-main/core/api/types.js';
import { AddConnectionDialog, connectionUri } from '../../../src-renderer/src/dialogs/AddConnectionDialog.js';
import { apiError, deferred, fakeApi } from './fake-api.js';

afterEach(cleanup);

const FP = 'SHA256:vFAgAc1lD5aWUgZyEZL9EDTKJGZZsDSFj6niG2FT0Xk';
const summary = (name: string): HostSummary => ({ name, transport: 'ssh', uri: `qemu+ssh://root@10.0.0.5/system`, autoconnect: true, state: 'connected', hypervisor: 'ferry' });

function fill(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label, { exact: true }), { target: { value } });
}

describe('AddConnectionDialog', () => {
  it('builds the virt-manager style URI', () => {
    expect(connectionUri('ssh', 'root', 'host', '')).toBe('qemu+ssh://root@host/system');
    expect(connectionUri('ssh', 'admin', '10.0.0.5', '2222')).toBe('qemu+ssh://admin@10.0.0.5:2222/system');
    expect(connectionUri('local', 'root', 'x', '')).toBe('qemu:///system');
  });

  it('validates before calling the engine', async () => {
    const api = fakeApi({});
    render(<AddConnectionDialog api={api} existingNames={['taken']} onAdded={vi.fn()} onClose={vi.fn()} />);
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    expect(await screen.findByText('Hostname is required')).toBeTruthy();
    fill('Hostname', 'bad host!');
    fill('Port', '70000');
    fill('Username', '9root');
    expect(screen.getByText('Must be a host name or an IP address')).toBeTruthy();
    expect(screen.getByText('Port must be a number from 1 to 65535')).toBeTruthy();
    expect(screen.getByText('Must be a user name')).toBeTruthy();
    fill('Hostname', 'taken');
    expect(screen.getByText('A connection named "taken" already exists')).toBeTruthy();
    fireEvent.click(screen.getByRole('radio', { name: 'Password' }));
    expect(screen.getByText('Enter the password')).toBeTruthy();
    expect(api.calls).toEqual([]);
  });

  it('shows the URI and sends an SSH connection with a key file', async () => {
    const api = fakeApi({ 'hosts.add': (input) => summary(input.name) });
    const onAdded = vi.fn();
    render(<AddConnectionDialog api={api} existingNames={[]} onAdded={onAdded} onClose={vi.fn()} />);
    fill('Hostname', 'kvm1.example');
    fill('Port', '2222');
    fireEvent.click(screen.getByRole('radio', { name: 'Key file' }));
    fill('Key file path', '/home/me/.ssh/id_ed25519');
    fireEvent.click(screen.getByRole('checkbox', { name: 'Autoconnect' }));
    expect(screen.getByLabelText('Connection URI').textContent).toBe('qemu+ssh://root@kvm1.example:2222/system');
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    await waitFor(() => expect(onAdded).toHaveBeenCalled());
    expect(api.calls[0]).toEqual({
      channel: 'hosts.add',
      input: { transport: 'ssh', name: 'kvm1.example', address: 'kvm1.example', port: 2222, user: 'root', useAgent: false, autoconnect: false, sudo: false, hypervisor: 'ferry', identityFile: '/home/me/.ssh/id_ed25519' },
    });
  });

  it('sends sudo for a user who is not root, and shows the sudoers line when sudo wants a password', async () => {
    const api = fakeApi({
      'hosts.add': () => {
        throw apiError({ code: 'auth-failed', message: 'kvm1: ops cannot use sudo without a password', hint: 'Allow it on the host with a line `ops ALL=(root) NOPASSWD: ALL` in /etc/sudoers.d/ferry' });
      },
    });
    render(<AddConnectionDialog api={api} existingNames={[]} onAdded={vi.fn()} onClose={vi.fn()} />);
    fill('Hostname', 'kvm1');
    fill('Username', 'ops');
    const sudo = screen.getByRole('checkbox', { name: 'Use sudo (this user is not root)' });
    expect(sudo.getAttribute('aria-describedby')).toBeTruthy();
    fireEvent.click(sudo);
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    expect(await screen.findByText('kvm1: ops cannot use sudo without a password')).toBeTruthy();
    expect(screen.getByText(/ops ALL=\(root\) NOPASSWD: ALL/)).toBeTruthy();
    expect(api.calls[0]?.input).toMatchObject({ user: 'ops', sudo: true });
  });

  it('disables the submit while running and shows message and hint of a failure', async () => {
    const pending = deferred<HostSummary>();
    const api = fakeApi({ 'hosts.add': () => pending.promise });
    render(<AddConnectionDialog api={api} existingNames={[]} onAdded={vi.fn()} onClose={vi.fn()} />);
    fill('Hostname', '10.0.0.5');
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    await waitFor(() => expect((screen.getByRole('button', { name: 'Connect' }) as HTMLButtonElement).disabled).toBe(true));
    pending.reject(apiError({ code: 'auth-failed', message: 'root@10.0.0.5 refused the key', hint: 'Add your public key to authorized_keys.' }));
    expect(await screen.findByText('root@10.0.0.5 refused the key')).toBeTruthy();
    expect(screen.getByText('Add your public key to authorized_keys.')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Connect' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('asks to trust an unknown host key and retries with exactly that fingerprint', async () => {
    let attempt = 0;
    const api = fakeApi({
      'hosts.add': (input) => {
        attempt++;
        if (attempt === 1) throw apiError({ code: 'host-key-unknown', message: 'unknown key', details: { fingerprint: FP, keyType: 'ssh-ed25519' } });
        return summary(input.name);
      },
    });
    const onAdded = vi.fn();
    render(<AddConnectionDialog api={api} existingNames={[]} onAdded={onAdded} onClose={vi.fn()} />);
    fill('Hostname', '10.0.0.5');
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    const keyDialog = await screen.findByRole('dialog', { name: 'Unknown host key' });
    expect(screen.getByLabelText('Host key fingerprint').textContent).toBe(FP);
    expect(keyDialog.textContent).toContain('ssh-ed25519');
    fireEvent.click(screen.getByRole('button', { name: 'Trust host' }));
    await waitFor(() => expect(onAdded).toHaveBeenCalled());
    expect((api.calls[1]?.input as { trustFingerprint?: string }).trustFingerprint).toBe(FP);
    expect((api.calls[0]?.input as { trustFingerprint?: string }).trustFingerprint).toBeUndefined();
  });

  it('Cancel in the host key dialog goes back without connecting', async () => {
    const api = fakeApi({ 'hosts.add': () => Promise.reject(apiError({ code: 'host-key-unknown', message: 'unknown', details: { fingerprint: FP, keyType: 'ssh-ed25519' } })) });
    render(<AddConnectionDialog api={api} existingNames={[]} onAdded={vi.fn()} onClose={vi.fn()} />);
    fill('Hostname', '10.0.0.5');
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    const keyDialog = await screen.findByRole('dialog', { name: 'Unknown host key' });
    fireEvent.click(keyDialog.querySelector('button[type="button"]') as HTMLButtonElement);
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Unknown host key' })).toBeNull());
    expect(api.calls).toHaveLength(1);
  });

  it('warns about a changed host key and offers no way to connect', async () => {
    const api = fakeApi({
      'hosts.add': () => Promise.reject(apiError({ code: 'host-key-changed', message: 'WARNING: the ssh-ed25519 host key for 10.0.0.5 has changed.', hint: "ssh-keygen -R '10.0.0.5'" })),
    });
    render(<AddConnectionDialog api={api} existingNames={[]} onAdded={vi.fn()} onClose={vi.fn()} />);
    fill('Hostname', '10.0.0.5');
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    const warning = await screen.findByRole('alert', { name: 'Host key changed' });
    expect(warning.textContent).toContain('has changed');
    expect(warning.textContent).toContain("ssh-keygen -R '10.0.0.5'");
    expect(screen.queryByRole('button', { name: 'Trust host' })).toBeNull();
    expect((screen.getByRole('button', { name: 'Connect' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('offers to remember a password only where the shell can store it safely', () => {
    const { unmount } = render(<AddConnectionDialog api={fakeApi({})} existingNames={[]} onAdded={vi.fn()} onClose={vi.fn()} />);
    fireEvent.click(screen.getByRole('radio', { name: 'Password' }));
    expect(screen.queryByRole('checkbox', { name: /Remember password/ })).toBeNull();
    unmount();
    render(<AddConnectionDialog api={fakeApi({}, { canRememberSecrets: true })} existingNames={[]} onAdded={vi.fn()} onClose={vi.fn()} />);
    fireEvent.click(screen.getByRole('radio', { name: 'Password' }));
    expect(screen.getByRole('checkbox', { name: /Remember password/ })).toBeTruthy();
  });

  it('local transport needs no host fields', async () => {
    const api = fakeApi({ 'hosts.add': (input) => ({ ...summary(input.name), transport: 'local', uri: 'qemu:///system' }) });
    const onAdded = vi.fn();
    render(<AddConnectionDialog api={api} existingNames={[]} onAdded={onAdded} onClose={vi.fn()} />);
    fireEvent.change(screen.getByLabelText('Transport'), { target: { value: 'local' } });
    expect(screen.queryByLabelText('Hostname')).toBeNull();
    expect(screen.getByLabelText('Connection URI').textContent).toBe('qemu:///system');
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    await waitFor(() => expect(onAdded).toHaveBeenCalled());
    expect(api.calls[0]?.input).toEqual({ transport: 'local', name: 'localhost', autoconnect: true, hypervisor: 'ferry' });
  });
});
