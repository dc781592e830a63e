import { checkedEventListener } from './events';
import { ApiError, type Channel, type ChannelInput, type ChannelOutput, type EventListener, type FerryApi, type ErrorInfo, type LinkState } from './types';

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * The web shell: requests over one WebSocket (/api) with request ids, events pushed on the same
 * socket. Reconnects with a short backoff; calls made while disconnected wait for the socket.
 * Without `url` it talks to the server that served the page, authenticated by the HttpOnly
 * cookie that came with the page, and drops the token from the address bar.
 */
export function createWebApi(url?: string): FerryApi {
  if (url === undefined) {
    forgetTokenInAddress();
    url = defaultSocketUrl();
  }
  const socketUrl = url;
  let socket: WebSocket | null = null;
  let nextId = 1;
  let opened: Promise<WebSocket> | null = null;
  let retryMs = 500;
  const pending = new Map<number, Pending>();
  const eventListeners = new Set<EventListener>();
  const deliverEvent = checkedEventListener((event) => eventListeners.forEach((l) => l(event)));
  const linkListeners = new Set<(state: LinkState) => void>();
  let link: LinkState = 'connecting';
  const setLink = (state: LinkState) => {
    link = state;
    linkListeners.forEach((l) => l(state));
  };

  const connect = (): Promise<WebSocket> => {
    if (opened) return opened;
    opened = new Promise<WebSocket>((resolve, reject) => {
      setLink('connecting');
      const ws = new WebSocket(socketUrl);
      socket = ws;
      ws.onopen = () => {
        retryMs = 500;
        setLink('open');
        resolve(ws);
      };
      ws.onmessage = (message) => {
        let data: unknown;
        try {
          data = JSON.parse(String(message.data));
        } catch {
          return;
        }
        const envelope = data as { id?: number; event?: unknown; ok?: boolean; value?: unknown; error?: ErrorInfo };
        if (envelope.event !== undefined) {
          deliverEvent(envelope.event);
          return;
        }
        if (typeof envelope.id !== 'number') return;
        const waiting = pending.get(envelope.id);
        if (!waiting) return;
        pending.delete(envelope.id);
        if (envelope.ok) waiting.resolve(envelope.value);
        else waiting.reject(new ApiError(envelope.error ?? { code: 'internal', message: 'Malformed reply' }));
      };
      ws.onclose = () => {
        opened = null;
        socket = null;
        setLink('closed');
        for (const [id, waiting] of pending) {
          waiting.reject(new ApiError({ code: 'connection-lost', message: 'Lost the connection to the Ferry server', hint: 'Check that `npm run web` is still running, then retry.' }));
          pending.delete(id);
        }
        reject(new ApiError({ code: 'connection-lost', message: 'Could not reach the Ferry server' }));
        setTimeout(() => void connect().catch(() => undefined), retryMs);
        retryMs = Math.min(retryMs * 2, 8000);
      };
    });
    return opened;
  };
  void connect().catch(() => undefined);

  return {
    kind: 'web',
    canRememberSecrets: false,
    async call<C extends Channel>(channel: C, input: ChannelInput<C>): Promise<ChannelOutput<C>> {
      const ws = socket && socket.readyState === WebSocket.OPEN ? socket : await connect();
      const id = nextId++;
      return new Promise<ChannelOutput<C>>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ id, channel, input }));
      });
    },
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onLink(listener) {
      linkListeners.add(listener);
      listener(link);
      return () => linkListeners.delete(listener);
    },
  };
}

function defaultSocketUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`;
}

/**
 * The printed URL carries the per-run token in `?token=`. Once the page is loaded the server's
 * cookie stands in for it, so it is taken out of the address bar and the history entry, where
 * anyone looking at the screen or the browser history would otherwise find it.
 */
export function forgetTokenInAddress(): void {
  const address = new URL(location.href);
  if (!address.searchParams.has('token')) return;
  address.searchParams.delete('token');
  history.replaceState(history.state, '', `${address.pathname}${address.search}${address.hash}`);
}
