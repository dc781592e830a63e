import { extname, resolve, sep } from 'node:path';

// The renderer is served from app://ferry/ rather than file:// so that the page has a real origin:
// 'self' in the CSP means only Ferry's own files (under file:// it would mean every local file), and
// the IPC sender check can compare an origin instead of a file path. Pure Node, so it is unit-tested
// without Electron; app-protocol.ts is the Electron glue around it.
export const APP_SCHEME = 'app';
export const APP_HOST = 'ferry';
export const APP_INDEX_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

const mimeTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** The Content-Type for a file of the built renderer; unknown kinds are opaque bytes (and nosniff keeps them so). */
export function mimeTypeFor(file: string): string {
  return mimeTypes[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export type AppFileTarget =
  | { ok: true; file: string; mimeType: string }
  | { ok: false; status: 400 | 404; reason: string };

/**
 * Maps an app://ferry/… request to a file inside `rendererRoot`, or says why not. Anything that
 * could leave the folder is refused: another host, a `..` that appears only after decoding (the URL
 * parser folds whole `..` and `%2e%2e` segments, not `..%2f`), backslashes and NUL bytes.
 */
export function resolveAppFile(rendererRoot: string, requestUrl: string): AppFileTarget {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { ok: false, status: 400, reason: 'not a URL' };
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) {
    return { ok: false, status: 404, reason: `only ${APP_SCHEME}://${APP_HOST}/ is served` };
  }
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return { ok: false, status: 400, reason: 'malformed percent-encoding' };
  }
  if (pathname.includes('\0') || pathname.includes('\\')) {
    return { ok: false, status: 400, reason: 'NUL or backslash in path' };
  }
  const segments = pathname.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '..' || segment === '.')) {
    return { ok: false, status: 404, reason: 'path leaves the renderer folder' };
  }
  const relative = segments.length === 0 ? 'index.html' : segments.join('/');
  const root = resolve(rendererRoot);
  const file = resolve(root, relative);
  // The checks above already rule this out; the prefix test is the last line should one be missed.
  if (!file.startsWith(root + sep)) {
    return { ok: false, status: 404, reason: 'path leaves the renderer folder' };
  }
  return { ok: true, file, mimeType: mimeTypeFor(file) };
}

/** Headers for a served file. HTML carries the CSP itself, so the page has it whether or not webRequest hooks see custom-protocol responses. */
export function appResponseHeaders(mimeType: string, csp: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': mimeType,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  };
  if (mimeType.startsWith('text/html')) headers['content-security-policy'] = csp;
  return headers;
}
