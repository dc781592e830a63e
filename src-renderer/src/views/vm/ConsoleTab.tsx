import { useEffect, useRef, useState } from 'react';
import { errorInfo, type ErrorInfo } from '../../api/types';
import { ErrorBox } from '../../components/common';
import { useFerry } from '../../store/context';
import { GraphicalConsole } from './GraphicalConsole';
import './ConsoleTab.css';
import { SerialTerminal, type SerialState } from './SerialTerminal';

type ConsoleView = 'serial' | 'graphical';

/**
 * The VM's two consoles. While it runs: the serial line in a terminal, or its screen through
 * noVNC. When it is off, or was started by a Ferry that wrote its serial line only to a log, the
 * serial log is shown read-only instead, with the reason.
 */
export function ConsoleTab({ hostName, vmName, active }: { hostName: string; vmName: string; active: boolean }) {
  const [view, setView] = useState<ConsoleView>('serial');
  // Keyed, so that a VM that starts again (or another VM) gets a fresh try at the interactive console.
  return <Consoles key={`${hostName}/${vmName}/${active}`} hostName={hostName} vmName={vmName} active={active} view={view} setView={setView} />;
}

function Consoles({ hostName, vmName, active, view, setView }: { hostName: string; vmName: string; active: boolean; view: ConsoleView; setView(view: ConsoleView): void }) {
  const [serial, setSerial] = useState<SerialState>({ kind: 'connecting' });
  const readOnly = serial.kind === 'failed' && serial.error.details?.['readOnlyLog'] === true;

  return (
    <div className="consoles">
      <div className="pane-header">
        <h3>Console</h3>
        <div className="console-switch" role="group" aria-label="Console type">
          <button type="button" aria-pressed={view === 'serial'} onClick={() => setView('serial')}>
            Serial
          </button>
          <button type="button" aria-pressed={view === 'graphical'} onClick={() => setView('graphical')}>
            Graphical
          </button>
        </div>
        <span className="muted small">{!active ? 'VM is off: last output' : serialNote(serial, view)}</span>
      </div>
      {view === 'serial' ? (
        !active || readOnly ? (
          <>
            {readOnly && serial.kind === 'failed' ? <p className="console-note">{`${serial.error.message}. ${serial.error.hint ?? ''}`}</p> : null}
            <SerialLog hostName={hostName} vmName={vmName} live={active} />
          </>
        ) : (
          <>
            {serial.kind === 'failed' ? <ErrorBox error={serial.error} /> : null}
            <SerialTerminal hostName={hostName} vmName={vmName} onState={setSerial} />
          </>
        )
      ) : active ? (
        <GraphicalConsole hostName={hostName} vmName={vmName} />
      ) : (
        <p className="console-note">The graphical console is there while the VM runs.</p>
      )}
    </div>
  );
}

function serialNote(state: SerialState, view: ConsoleView): string {
  if (view !== 'serial') return '';
  if (state.kind === 'connecting') return 'connecting…';
  if (state.kind === 'open') return 'live: type to send to the guest';
  if (state.kind === 'closed') return state.reason;
  return 'read-only';
}

/** The tail of the VM's serial log, polled with vms.serial once a second while the VM runs. */
export function SerialLog({ hostName, vmName, live }: { hostName: string; vmName: string; live: boolean }) {
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
      if (alive && live) timer = setTimeout(() => void poll(), 1000);
    };
    void poll();
    return () => {
      alive = false;
      if (timer) clearTimeout(timer);
    };
  }, [api, hostName, vmName, live]);

  useEffect(() => {
    const pre = preRef.current;
    if (pre && stick.current) pre.scrollTop = pre.scrollHeight;
  }, [text]);

  return (
    <>
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
        {text || (live ? 'Waiting for output…' : '')}
      </pre>
    </>
  );
}
