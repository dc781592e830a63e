import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A fresh random access token for one run of the web server. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export const TOKEN_COOKIE = 'ferry_token';

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The token a request carries: `?token=` in its URL or the cookie set when the page was first opened. */
export function requestTokens(request: IncomingMessage): string[] {
  const found: string[] = [];
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const query = url.searchParams.get('token');
  if (query) found.push(query);
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === TOKEN_COOKIE && rest.length > 0) found.push(rest.join('='));
  }
  return found;
}

export function hasValidToken(request: IncomingMessage, token: string): boolean {
  return requestTokens(request).some((candidate) => safeEqual(candidate, token));
}

/**
 * A WebSocket upgrade must come from a page we served: browsers always send Origin on WebSocket
 * handshakes, and another site's page would show its own origin here.
 */
export function hasValidOrigin(request: IncomingMessage, servedOrigin: string): boolean {
  const origin = request.headers.origin;
  return typeof origin === 'string' && origin === servedOrigin;
}

/** Only our own Host header is accepted (guards against DNS rebinding onto 127.0.0.1). */
export function hasValidHost(request: IncomingMessage, port: number): boolean {
  const host = request.headers.host;
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}
