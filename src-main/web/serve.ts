import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

// Serves the built renderer on 127.0.0.1 only, behind a per-run token, so the same UI runs in any
// browser without Electron.
const rendererDir = fileURLToPath(new URL('../../renderer/', import.meta.url));
const token = randomBytes(24).toString('base64url');
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

const server = createServer((request, response) => {
  void (async () => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const cookieToken = /(?:^|;\s*)ferry_token=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
    const queryToken = url.searchParams.get('token');
    if (queryToken !== token && cookieToken !== token) {
      response.writeHead(403, { 'content-type': 'text/plain' }).end('Open the URL that `npm run web` printed (it carries the access token).');
      return;
    }
    const relative = normalize(url.pathname === '/' ? 'index.html' : url.pathname.slice(1));
    if (relative.startsWith('..')) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(rendererDir, relative));
      response.writeHead(200, {
        'content-type': types[extname(relative)] ?? 'application/octet-stream',
        'set-cookie': `ferry_token=${token}; HttpOnly; SameSite=Strict; Path=/`,
        'x-content-type-options': 'nosniff',
      });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  })();
});

const port = Number(process.env['FERRY_WEB_PORT'] ?? 0);
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  console.log(`Ferry is serving on http://127.0.0.1:${actualPort}/?token=${token}`);
});
