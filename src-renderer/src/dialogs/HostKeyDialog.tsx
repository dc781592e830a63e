import { Dialog } from '../components/Dialog';
import { useAction } from '../components/common';

export interface HostKeyDialogProps {
  host: string;
  port: number;
  fingerprint: string;
  keyType: string;
  /** Retries the connection trusting exactly this fingerprint. */
  onTrust(): Promise<void>;
  onCancel(): void;
}

/** Asks the user to verify an unknown SSH host key before Ferry trusts it. */
export function HostKeyDialog({ host, port, fingerprint, keyType, onTrust, onCancel }: HostKeyDialogProps) {
  const { busy, error, run } = useAction();
  return (
    <Dialog title="Unknown host key" onClose={onCancel} onSubmit={() => void run(onTrust)} submitLabel="Trust host" busy={busy} error={error} width={560}>
      <p>
        Ferry has never connected to <strong>{host}</strong>
        {port !== 22 ? `:${port}` : ''} before and cannot tell whether this is really that host. Compare the fingerprint below with the one the host&apos;s
        administrator gives you (run <code>ssh-keygen -lf /etc/ssh/ssh_host_{keyType.replace(/^ssh-|-.*$/g, '')}_key.pub</code> on the host).
      </p>
      <div className="fingerprint-box">
        <div className="fingerprint-type">{keyType} key fingerprint</div>
        <code className="fingerprint" aria-label="Host key fingerprint">
          {fingerprint}
        </code>
      </div>
      <p className="muted">Trusting records the key in Ferry&apos;s known_hosts; a different key later will be refused.</p>
    </Dialog>
  );
}
