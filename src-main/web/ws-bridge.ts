import type { WebSocket, WebSocketServer } from 'ws';
import { isChannel, type EngineEvent } from '../core/api/contract.js';
import type { CallContext, FerryEngine } from '../core/engine.js';
import { FerryError, toFerryError } from '../core/errors.js';
import { throttleEvents } from './throttle.js';

/**
 * Wire format (JSON text frames):
 *   client -> server  { id: number, channel: string, input: unknown }
 *   server -> client  { id, ok: true, value } | { id, ok: false, error: FerryError.toJSON() }
 *   server -> client  { event: { name, payload } }   (an EngineEvent, as IPC carries it too)
 * The engine validates every input (engine.call); this layer only checks the envelope.
 */
export function attachBridge(wss: WebSocketServer, engine: FerryEngine, options: { sampleIntervalMs?: number } = {}): () => void {
  const throttle = throttleEvents((event: EngineEvent) => {
    const text = JSON.stringify({ event });
    for (const client of wss.clients) if (client.readyState === client.OPEN) client.send(text);
  }, options.sampleIntervalMs ?? 250);
  const unsubscribe = engine.onEvent(throttle.push);

  let pages = 0;
  wss.on('connection', (socket: WebSocket) => {
    // Each page is its own caller, so the consoles it opened close when its socket does.
    const caller = { owner: `web-${++pages}` };
    socket.on('message', (data, isBinary) => {
      void handle(engine, socket, isBinary ? null : data.toString(), caller);
    });
    socket.on('close', () => engine.consoles.closeOwner(caller.owner));
  });

  return () => {
    unsubscribe();
    throttle.dispose();
  };
}

async function handle(engine: FerryEngine, socket: WebSocket, text: string | null, caller: CallContext): Promise<void> {
  let id: unknown = null;
  try {
    if (text === null) throw new FerryError('invalid-input', 'Binary frames are not part of the Ferry protocol');
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      throw new FerryError('invalid-input', 'The request is not valid JSON');
    }
    if (typeof message !== 'object' || message === null) throw new FerryError('invalid-input', 'The request must be a JSON object');
    const envelope = message as { id?: unknown; channel?: unknown; input?: unknown };
    id = typeof envelope.id === 'number' || typeof envelope.id === 'string' ? envelope.id : null;
    if (id === null) throw new FerryError('invalid-input', 'The request needs an id (number or string)');
    if (!isChannel(envelope.channel)) throw new FerryError('invalid-input', `Unknown channel ${JSON.stringify(envelope.channel)}`);
    const value = await engine.call(envelope.channel, envelope.input, caller);
    send(socket, { id, ok: true, value });
  } catch (error) {
    send(socket, { id, ok: false, error: toFerryError(error).toJSON() });
  }
}

function send(socket: WebSocket, message: unknown): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}
