import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { FerryEngine } from '../core/engine.js';
import { hasValidHost, hasValidOrigin, hasValidToken, newToken, tokenCookie } from './auth.js';
import { sendStatic } from './static-files.js';
import { attachBridge } from './ws-bridge.js';

export interface WebServerOptions {
  engine: FerryEngine;
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  token?: string;
  sampleIntervalMs?: number;
}

export interface RunningWebServer {
  url: string;
  origin: string;
  port: number;
  token: string;
  server: Server;
  close(): Promise<void>;
}

export const WS_PATH = '/api';

/** Serves the renderer and the engine API (WebSocket at /api) on 127.0.0.1 only, behind a token. */
export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const token = options.token ?? newToken();
  let origin = '';
  let port = 0;

  const server = createServer((request, response) => {
    if (!hasValidHost(request, port)) {
      response.writeHead(421, { 'content-type': 'text/plain' }).end('Wrong Host header.');
      return;
    }
    if (!hasValidToken(request, token)) {
      response.writeHead(403, { 'content-type': 'text/plain' }).end('Open the URL that `npm run web` printed: it carries the access token, which the browser then keeps in a cookie for this run.');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const url = new URL(request.url ?? '/', origin);
    void sendStatic(options.rendererDir, url.pathname, response, { 'set-cookie': tokenCookie(token) });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  const detach = attachBridge(wss, options.engine, options.sampleIntervalMs === undefined ? {} : { sampleIntervalMs: options.sampleIntervalMs });

  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== WS_PATH) return refuse('404 Not Found');
    if (!hasValidHost(request, port)) return refuse('421 Misdirected Request');
    if (!hasValidToken(request, token)) return refuse('403 Forbidden');
    if (!hasValidOrigin(request, port)) return refuse('403 Forbidden');
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    server,
    async close() {
      detach();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
