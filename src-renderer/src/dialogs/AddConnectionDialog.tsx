import { useMemo, useState } from 'react';
import type { HostSummary } from '../../../src-main/core/api/types';
import { ApiError, type ChannelInput, type ErrorInfo, type FerryApi } from '../api/types';
import { Dialog } from '../components/Dialog';
import { Field, useAction } from '../components/common';
import { hostAddressProblem, uriHost } from '../../../src-main/core/api/host-address';
import { nameProblem } from '../util/format';
import { hypervisorMeaning, type HypervisorKind } from '../util/hypervisor';
import { HostKeyDialog } from './HostKeyDialog';

type Auth = 'agent' | 'key' | 'password';

export interface AddConnectionDialogProps {
  api: FerryApi;
  existingNames: string[];
  onAdded(host: HostSummary): void;
  onClose(): void;
}

const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;

export function connectionUri(transport: 'ssh' | 'local', user: string, hostname: string, port: string): string {
  if (transport === 'local') return 'qemu:///system';
  const who = user.trim() ? `${user.trim()}@` : '';
  const where = uriHost(hostname.trim() || 'host');
  const portPart = port.trim() && port.trim() !== '22' ? `:${port.trim()}` : '';
  return `qemu+ssh://${who}${where}${portPart}/system`;
}

/** Derives a saved-connection name from the hostname when the user leaves Name empty. */
function defaultName(hostname: string, transport: 'ssh' | 'local'): string {
  if (transport === 'local') return 'localhost';
  return hostname.trim().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[.-]+/, '').slice(0, 64);
}

export function AddConnectionDialog({ api, existingNames, onAdded, onClose }: AddConnectionDialogProps) {
  const [hypervisor, setHypervisor] = useState<HypervisorKind>('ferry');
  const [transport, setTransport] = useState<'ssh' | 'local'>('ssh');
  const [name, setName] = useState('');
  const [user, setUser] = useState('root');
  const [hostname, setHostname] = useState('');
  const [port, setPort] = useState('');
  const [auth, setAuth] = useState<Auth>('agent');
  const [keyFile, setKeyFile] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [password, setPassword] = useState('');
  const [remember, setRemember] = useState(false);
  const [autoconnect, setAutoconnect] = useState(true);
  const [sudo, setSudo] = useState(false);
  const [touched, setTouched] = useState(false);
  const [unknownKey, setUnknownKey] = useState<{ fingerprint: string; keyType: string } | null>(null);
  const [changedKey, setChangedKey] = useState<ErrorInfo | null>(null);
  const { busy, error, setError, run } = useAction();

  const effectiveName = name.trim() || defaultName(hostname, transport);
  const problems = useMemo(() => {
    const p: Record<string, string> = {};
    const nameIssue = nameProblem(effectiveName, 'Connection');
    if (nameIssue) p['name'] = nameIssue;
    else if (existingNames.includes(effectiveName)) p['name'] = `A connection named "${effectiveName}" already exists`;
    if (transport === 'ssh') {
      if (!hostname.trim()) p['hostname'] = 'Hostname is required';
      else if (hostAddressProblem(hostname.trim())) p['hostname'] = 'Must be a host name or an IP address';
      if (port.trim() && !(/^\d+$/.test(port.trim()) && Number(port) >= 1 && Number(port) <= 65535)) p['port'] = 'Port must be a number from 1 to 65535';
      if (user.trim() && !USER.test(user.trim())) p['user'] = 'Must be a user name';
      if (auth === 'key' && !keyFile.trim()) p['keyFile'] = 'Give the path of the private key';
      if (auth === 'password' && !password) p['password'] = 'Enter the password';
    }
    return p;
  }, [effectiveName, existingNames, transport, hostname, port, user, auth, keyFile, password]);
  const show = (key: string) => (touched ? problems[key] ?? null : null);
  const uri = connectionUri(transport, user, hostname, port);

  const buildInput = (trustFingerprint?: string): ChannelInput<'hosts.add'> => {
    if (transport === 'local') return { transport: 'local', name: effectiveName, autoconnect, hypervisor };
    const input: ChannelInput<'hosts.add'> = {
      transport: 'ssh',
      name: effectiveName,
      address: hostname.trim(),
      useAgent: auth === 'agent',
      autoconnect,
      sudo,
      hypervisor,
    };
    if (port.trim()) input.port = Number(port.trim());
    if (user.trim()) input.user = user.trim();
    if (auth === 'key') {
      input.identityFile = keyFile.trim();
      if (passphrase) input.passphrase = passphrase;
    }
    if (auth === 'password') input.password = password;
    if (trustFingerprint) input.trustFingerprint = trustFingerprint;
    return input;
  };

  const attempt = async (trustFingerprint?: string) => {
    try {
      const added = await api.call('hosts.add', buildInput(trustFingerprint), remember ? { rememberSecrets: true } : undefined);
      setUnknownKey(null);
      onAdded(added);
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'host-key-unknown' && typeof caught.details?.['fingerprint'] === 'string') {
        setUnknownKey({ fingerprint: caught.details['fingerprint'] as string, keyType: String(caught.details['keyType'] ?? 'ssh') });
        return;
      }
      setUnknownKey(null);
      if (caught instanceof ApiError && caught.code === 'host-key-changed') {
        setChangedKey(caught.toInfo());
        return;
      }
      throw caught;
    }
  };

  const submit = () => {
    setTouched(true);
    if (Object.keys(problems).length > 0 || changedKey) return;
    void run(() => attempt());
  };

  const trust = async () => {
    if (!unknownKey) return;
    const fingerprint = unknownKey.fingerprint;
    try {
      await attempt(fingerprint);
    } catch (caught) {
      setUnknownKey(null);
      setError(caught instanceof ApiError ? caught.toInfo() : { code: 'internal', message: String(caught) });
    }
  };

  const resetKeyState = () => setChangedKey(null);

  return (
    <>
      <Dialog
        title="Add Connection"
        onClose={onClose}
        onSubmit={submit}
        submitLabel="Connect"
        busy={busy}
        submitDisabled={changedKey !== null}
        error={error}
        width={560}
        footerNote={
          <span className="uri-preview">
            {hypervisor === 'libvirt' ? <span className="muted">libvirt URI </span> : null}
            <output aria-label="Connection URI">{uri}</output>
          </span>
        }
      >
        <div className="form-grid">
          <Field label="Hypervisor" wide hint={hypervisorMeaning(hypervisor)}>
            {(id) => (
              <select id={id} value={hypervisor} disabled={busy} onChange={(e) => setHypervisor(e.target.value as HypervisorKind)}>
                <option value="ferry">QEMU/KVM (Ferry-managed)</option>
                <option value="libvirt">libvirt (QEMU/KVM under libvirtd)</option>
              </select>
            )}
          </Field>
          <Field label="Transport">
            {(id) => (
              <select
                id={id}
                value={transport}
                disabled={busy}
                onChange={(e) => {
                  setTransport(e.target.value as 'ssh' | 'local');
                  resetKeyState();
                }}
              >
                <option value="ssh">SSH</option>
                <option value="local">Local</option>
              </select>
            )}
          </Field>
          {transport === 'ssh' ? (
            <>
              <Field label="Username" error={show('user')}>
                {(id) => <input id={id} value={user} disabled={busy} autoComplete="username" onChange={(e) => setUser(e.target.value)} />}
              </Field>
              <div className="check-with-hint">
                <label className="check">
                  <input type="checkbox" checked={sudo} disabled={busy} aria-describedby="add-connection-sudo-hint" onChange={(e) => setSudo(e.target.checked)} />
                  Use sudo (this user is not root)
                </label>
                <div id="add-connection-sudo-hint" className="field-hint">
                  Ferry then runs its commands on the host with <code>sudo -n</code>: the user needs passwordless sudo.
                </div>
              </div>
              <Field label="Hostname" error={show('hostname')}>
                {(id) => (
                  <input
                    id={id}
                    value={hostname}
                    disabled={busy}
                    placeholder="host.example.org or 10.0.0.5"
                    onChange={(e) => {
                      setHostname(e.target.value);
                      resetKeyState();
                    }}
                  />
                )}
              </Field>
              <Field label="Port" error={show('port')} hint="Empty: from ~/.ssh/config, else 22">
                {(id) => (
                  <input
                    id={id}
                    value={port}
                    inputMode="numeric"
                    disabled={busy}
                    placeholder="22"
                    onChange={(e) => {
                      setPort(e.target.value);
                      resetKeyState();
                    }}
                  />
                )}
              </Field>
              <fieldset className="field wide radio-row" disabled={busy}>
                <legend>Authentication</legend>
                {(
                  [
                    ['agent', 'SSH agent'],
                    ['key', 'Key file'],
                    ['password', 'Password'],
                  ] as const
                ).map(([value, label]) => (
                  <label key={value} className="radio">
                    <input type="radio" name="auth" value={value} checked={auth === value} onChange={() => setAuth(value)} />
                    {label}
                  </label>
                ))}
              </fieldset>
              {auth === 'key' ? (
                <>
                  <Field label="Key file path" error={show('keyFile')}>
                    {(id) => <input id={id} value={keyFile} disabled={busy} placeholder="~/.ssh/id_ed25519" onChange={(e) => setKeyFile(e.target.value)} />}
                  </Field>
                  <Field label="Passphrase" hint="Only if the key is encrypted">
                    {(id) => <input id={id} type="password" value={passphrase} disabled={busy} autoComplete="off" onChange={(e) => setPassphrase(e.target.value)} />}
                  </Field>
                </>
              ) : null}
              {auth === 'password' ? (
                <Field label="Password" error={show('password')}>
                  {(id) => <input id={id} type="password" value={password} disabled={busy} autoComplete="current-password" onChange={(e) => setPassword(e.target.value)} />}
                </Field>
              ) : null}
              {api.canRememberSecrets && (auth === 'password' || (auth === 'key' && passphrase)) ? (
                <label className="check wide">
                  <input type="checkbox" checked={remember} disabled={busy} onChange={(e) => setRemember(e.target.checked)} />
                  Remember {auth === 'password' ? 'password' : 'passphrase'} (encrypted with the system keychain)
                </label>
              ) : null}
            </>
          ) : null}
          <Field label="Name" error={show('name')} hint={name.trim() ? undefined : effectiveName ? `Will be saved as "${effectiveName}"` : 'Defaults to the hostname'}>
            {(id) => <input id={id} value={name} disabled={busy} placeholder={effectiveName || 'my-host'} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <label className="check wide">
            <input type="checkbox" checked={autoconnect} disabled={busy} onChange={(e) => setAutoconnect(e.target.checked)} />
            Autoconnect
          </label>
        </div>
        {changedKey ? (
          <div className="warning-box danger" role="alert" aria-label="Host key changed">
            <strong>The host key has changed. Ferry will not connect.</strong>
            <p>{changedKey.message}</p>
            {changedKey.hint ? <p className="error-hint">{changedKey.hint}</p> : null}
          </div>
        ) : null}
      </Dialog>
      {unknownKey ? (
        <HostKeyDialog
          host={hostname.trim()}
          port={port.trim() ? Number(port) : 22}
          fingerprint={unknownKey.fingerprint}
          keyType={unknownKey.keyType}
          onTrust={trust}
          onCancel={() => setUnknownKey(null)}
        />
      ) : null}
    </>
  );
}
