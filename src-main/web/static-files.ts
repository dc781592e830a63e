import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** Sends one file of the built renderer, never anything outside `root`. */
export async function sendStatic(root: string, pathname: string, response: ServerResponse, extraHeaders: Record<string, string>): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    response.writeHead(400).end();
    return;
  }
  const relative = normalize(decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, ''));
  if (relative.startsWith('..') || relative.includes(`${sep}..`) || relative.includes('\0')) {
    response.writeHead(404).end();
    return;
  }
  try {
    const body = await readFile(join(root, relative));
    response.writeHead(200, {
      'content-type': types[extname(relative)] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      ...extraHeaders,
    });
    response.end(body);
  } catch {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
  }
}
