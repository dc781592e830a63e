import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef } from 'react';
import { errorInfo, type ErrorInfo } from '../../api/types';
import { useFerry } from '../../store/context';
import { ConsoleStream, overlapLength } from './console-stream';

export type SerialState = { kind: 'connecting' } | { kind: 'open' } | { kind: 'closed'; reason: string } | { kind: 'failed'; error: ErrorInfo };

/**
 * The VM's serial line in a terminal: what the guest writes appears, what is typed goes to the
 * guest. It starts with the end of the serial log so the boot messages are there too.
 */
export function SerialTerminal({ hostName, vmName, onState }: { hostName: string; vmName: string; /** Must be stable (a state setter): the console reopens when it changes. */ onState(state: SerialState): void }) {
  const api = useFerry((s) => s.api);
  const holder = useRef<HTMLDivElement | null>(null);

  useEffect(() => {
    const element = holder.current;
    if (!element) return;
    const terminal = new Terminal({
      convertEol: false,
      cursorBlink: true,
      // xterm measures one cell of this font, so it must be the monospace one, resolved to its names.
      fontFamily: getComputedStyle(document.documentElement).getPropertyValue('--mono').trim() || 'monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: { background: '#1d2126', foreground: '#d8dee6', cursor: '#d8dee6' },
    });
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open(element);
    fit.fit();
    const resize = new ResizeObserver(() => fit.fit());
    resize.observe(element);
    let stream: ConsoleStream | null = null;
    let alive = true;
    onState({ kind: 'connecting' });
    void (async () => {
      try {
        const opened = await ConsoleStream.open(api, hostName, vmName, 'serial');
        if (!alive) {
          opened.close();
          return;
        }
        stream = opened;
        const tail = await api.call('vms.serial', { host: hostName, name: vmName, tailBytes: 32_768 }).then((r) => r.text).catch(() => '');
        if (!alive) return;
        const tailBytes = new TextEncoder().encode(tail);
        terminal.write(tailBytes);
        // What came while the log was read is handed over at once inside listen(); the log was
        // read after the console opened, so its end may repeat the start of those bytes.
        const early: Uint8Array[] = [];
        let catchingUp = true;
        opened.listen({
          data: (bytes) => {
            if (catchingUp) early.push(bytes);
            else terminal.write(bytes);
          },
          closed: (reason) => {
            terminal.write(`\r\n\x1b[2m[${reason}]\x1b[0m\r\n`);
            onState({ kind: 'closed', reason });
          },
        });
        catchingUp = false;
        const caughtUp = concat(early);
        terminal.write(caughtUp.subarray(overlapLength(tailBytes, caughtUp)));
        if (opened.open) onState({ kind: 'open' });
        terminal.onData((text) => opened.write(new TextEncoder().encode(text)));
      } catch (error) {
        if (alive) onState({ kind: 'failed', error: errorInfo(error) });
      }
    })();
    return () => {
      alive = false;
      resize.disconnect();
      stream?.close();
      terminal.dispose();
    };
  }, [api, hostName, vmName, onState]);

  return (
    <div ref={holder} className="serial-terminal" role="region" aria-label="Serial console" />
  );
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}
