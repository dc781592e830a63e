import { protocol } from 'electron';
import { readFile } from 'node:fs/promises';
import { APP_SCHEME, appResponseHeaders, resolveAppFile } from './app-protocol-files.js';

/**
 * Must run before the app is ready. standard: relative URLs, origins and 'self' work as for https;
 * secure: the page is a secure context (crypto.subtle, no mixed-content downgrade).
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Serves app://ferry/… from the built renderer folder only. Call once the app is ready. */
export function serveRenderer(rendererRoot: string, csp: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const target = resolveAppFile(rendererRoot, request.url);
    if (!target.ok) return new Response(target.reason, { status: target.status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    try {
      // readFile, not net.fetch(file://…): Electron's fs reads inside app.asar, and no file:// request is needed.
      const body = await readFile(target.file);
      return new Response(new Uint8Array(body), { status: 200, headers: appResponseHeaders(target.mimeType, csp) });
    } catch {
      return new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    }
  });
}
