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
 * The names this server answers to. The server listens on 127.0.0.1 only, so [::1] is not
 * among them. Host and Origin checks both use this one list: a page the Host check serves must
 * also be able to open the API socket.
 */
export function servedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/**
 * A WebSocket upgrade must come from a page we served: browsers always send Origin on WebSocket
 * handshakes, and another site's page would show its own origin here.
 */
export function hasValidOrigin(request: IncomingMessage, port: number): boolean {
  const origin = request.headers.origin;
  return typeof origin === 'string' && servedHosts(port).some((host) => origin === `http://${host}`);
}

/** Only our own Host header is accepted (guards against DNS rebinding onto 127.0.0.1). */
export function hasValidHost(request: IncomingMessage, port: number): boolean {
  const host = request.headers.host;
  return typeof host === 'string' && servedHosts(port).includes(host);
}

/**
 * Carries the token after the first page load, so the renderer can drop `?token=` from the
 * address bar and history. HttpOnly keeps it from page scripts, Strict from other sites' requests.
 */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}
