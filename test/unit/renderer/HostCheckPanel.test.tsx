// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostCheckReport } from '../../../src-main/core/api/types.js';
import { StoreProvider } from '../../../src-renderer/src/store/context.js';
import { createFerryStore } from '../../../src-renderer/src/store/store.js';
import { HostDetails } from '../../../src-renderer/src/views/HostDetails.js';
import { apiError, deferred, fakeApi } from './fake-api.js';

afterEach(cleanup);

const failing: HostCheckReport = {
  host: 'kvm1',
  ok: false,
  items: [
    { check: 'qemu-system-x86_64', level: 'ok', message: 'QEMU 7.2.22 (/usr/bin/qemu-system-x86_64)' },
    { check: 'qemu-img', level: 'error', message: 'qemu-img is not installed; disk images and every migration need it', hint: 'Install it: apt install qemu-utils (Debian/Ubuntu).' },
    { check: 'kvm', level: 'warning', message: 'there is no /dev/kvm; VMs run with TCG emulation, many times slower', hint: 'Enable virtualization (VT-x/AMD-V) in the firmware.' },
  ],
};

function showHost(handlers: Parameters<typeof fakeApi>[0]) {
  const api = fakeApi({ 'hosts.info': () => new Promise(() => undefined), ...handlers });
  const store = createFerryStore(api);
  store.getState().hostAdded({ name: 'kvm1', transport: 'local', uri: 'qemu:///system', autoconnect: true, state: 'connected', hypervisor: 'ferry' });
  render(
    <StoreProvider store={store}>
      <HostDetails hostName="kvm1" />
    </StoreProvider>,
  );
  return api;
}

describe('Check host on the host overview', () => {
  it('runs hosts.check and lists each item, with the fix under what is missing', async () => {
    const answer = deferred<HostCheckReport>();
    const api = showHost({ 'hosts.check': () => answer.promise });
    expect(screen.queryByRole('region', { name: /Host check/ })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Check host' }));
    expect((screen.getByRole('button', { name: 'Checking host…' }) as HTMLButtonElement).disabled).toBe(true);
    answer.resolve(failing);
    const region = await screen.findByRole('region', { name: 'Host check of kvm1' });
    expect(api.calls.filter((call) => call.channel === 'hosts.check')).toEqual([{ channel: 'hosts.check', input: { host: 'kvm1' } }]);
    expect(within(region).getByText(/kvm1 is missing what Ferry needs: 1 problem to fix/)).toBeTruthy();
    const missing = within(region).getByRole('listitem', { name: 'qemu-img: Missing' });
    expect(missing.textContent).toContain('apt install qemu-utils');
    expect(within(region).getByRole('listitem', { name: 'kvm: Warning' }).textContent).toContain('Enable virtualization');
    // A passing item shows no fix.
    expect(within(region).getByRole('listitem', { name: 'qemu-system-x86_64: OK' }).querySelector('.error-hint')).toBeNull();
    expect((screen.getByRole('button', { name: 'Check host' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows why the check itself could not run', async () => {
    showHost({ 'hosts.check': () => Promise.reject(apiError({ code: 'connection-lost', message: 'kvm1: connection lost', hint: 'Reconnect.' })) });
    fireEvent.click(screen.getByRole('button', { name: 'Check host' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Host check: kvm1: connection lost');
    expect(alert.textContent).toContain('Reconnect.');
  });
});
