import { useEffect, useRef, useState } from 'react';
import { errorInfo, type ErrorInfo } from '../../api/types';
import { ErrorBox } from '../../components/common';
import { useFerry } from '../../store/context';

export function ConsoleTab({ hostName, vmName, active }: { hostName: string; vmName: string; active: boolean }) {
  return <SerialConsole hostName={hostName} vmName={vmName} active={active} />;
}

/** The tail of the VM's serial log, polled with vms.serial once a second while the VM runs. */
export function SerialConsole({ hostName, vmName, active }: { hostName: string; vmName: string; active: boolean }) {
  const api = useFerry((s) => s.api);
  const [text, setText] = useState('');
  const [error, setError] = useState<ErrorInfo | null>(null);
  const preRef = useRef<HTMLPreElement | null>(null);
  const stick = useRef(true);

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const result = await api.call('vms.serial', { host: hostName, name: vmName, tailBytes: 32_768 });
        if (!alive) return;
        setText(result.text);
        setError(null);
      } catch (e) {
        if (alive) setError(errorInfo(e));
      }
      if (alive && active) timer = setTimeout(() => void poll(), 1000);
    };
    void poll();
    return () => {
      alive = false;
      if (timer) clearTimeout(timer);
    };
  }, [api, hostName, vmName, active]);

  useEffect(() => {
    const pre = preRef.current;
    if (pre && stick.current) pre.scrollTop = pre.scrollHeight;
  }, [text]);

  return (
    <div className="serial">
      <div className="pane-header">
        <h3>Serial console</h3>
        <span className="muted small">{active ? 'live' : 'VM is off: last output'}</span>
      </div>
      {error && error.code !== 'not-found' ? <ErrorBox error={error} /> : null}
      <pre
        ref={preRef}
        className="console"
        aria-label="Serial console"
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {text || (active ? 'Waiting for output…' : '')}
      </pre>
    </div>
  );
}
