import RFB from '@novnc/novnc';
import { useEffect, useRef, useState } from 'react';
import { errorInfo, type ErrorInfo } from '../../api/types';
import { ErrorBox } from '../../components/common';
import { useFerry } from '../../store/context';
import { ConsoleStream } from './console-stream';
import { VncChannel } from './vnc-channel';

type VncState = { kind: 'connecting' } | { kind: 'open' } | { kind: 'closed'; reason: string } | { kind: 'failed'; error: ErrorInfo };

/** The VM's screen through noVNC, its VNC bytes carried by a console stream (no port, no URL). */
export function GraphicalConsole({ hostName, vmName }: { hostName: string; vmName: string }) {
  const api = useFerry((s) => s.api);
  const screen = useRef<HTMLDivElement | null>(null);
  const rfbRef = useRef<RFB | null>(null);
  const [state, setState] = useState<VncState>({ kind: 'connecting' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const target = screen.current;
    if (!target) return;
    let alive = true;
    let stream: ConsoleStream | null = null;
    setState({ kind: 'connecting' });
    void ConsoleStream.open(api, hostName, vmName, 'vnc')
      .then((opened) => {
        if (!alive) {
          opened.close();
          return;
        }
        stream = opened;
        const rfb = new RFB(target, new VncChannel(opened), { shared: true });
        rfb.scaleViewport = true;
        rfb.background = 'transparent';
        rfb.addEventListener('connect', () => alive && setState({ kind: 'open' }));
        rfb.addEventListener('disconnect', () => {
          if (alive) setState({ kind: 'closed', reason: 'The VM stopped or closed the console' });
        });
        rfbRef.current = rfb;
      })
      .catch((error: unknown) => alive && setState({ kind: 'failed', error: errorInfo(error) }));
    return () => {
      alive = false;
      rfbRef.current?.disconnect();
      rfbRef.current = null;
      stream?.close();
    };
  }, [api, hostName, vmName, attempt]);

  return (
    <div className="graphical-console">
      <div className="console-toolbar">
        <span className="muted small" role="status">
          {state.kind === 'connecting' ? 'Connecting…' : state.kind === 'open' ? 'Connected: click the screen to type' : state.kind === 'closed' ? state.reason : ''}
        </span>
        <span className="console-toolbar-actions">
          <button type="button" disabled={state.kind !== 'open'} onClick={() => rfbRef.current?.sendCtrlAltDel()}>
            Send Ctrl+Alt+Del
          </button>
          {state.kind === 'closed' || state.kind === 'failed' ? (
            <button type="button" onClick={() => setAttempt((n) => n + 1)}>
              Reconnect
            </button>
          ) : null}
        </span>
      </div>
      {state.kind === 'failed' ? <ErrorBox error={state.error} /> : null}
      <div ref={screen} className="vnc-screen" role="img" aria-label="Graphical console" />
    </div>
  );
}
