import { pathToFileURL } from 'node:url';
import { APP_HOST, APP_SCHEME } from './app-protocol-files.js';

/** Links the app may hand to the system browser; everything else is refused. */
export const EXTERNAL_LINK_ALLOWLIST: readonly string[] = [
  'https://github.com/',
  'https://www.qemu.org/',
  'https://qemu-project.gitlab.io/',
  'https://libvirt.org/',
];

export function isAllowedExternalLink(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '') return false;
  return EXTERNAL_LINK_ALLOWLIST.some((prefix) => parsed.href.startsWith(prefix));
}

/**
 * True when an IPC message comes from our own renderer page, app://ferry/index.html (a query or
 * fragment does not matter). Compared by parts: Node gives non-special schemes the origin "null".
 */
export function isAppPageUrl(url: string | undefined): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '' && parsed.port === '' && parsed.pathname === '/index.html';
}

/**
 * The sender check from when the page was loaded from file://…/renderer/index.html. main.ts now uses
 * isAppPageUrl; this stays only while test/unit/electron/electron-glue.test.ts still calls it.
 */
export function isOurRendererUrl(url: string | undefined, rendererIndex: string): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'file:') return false;
  const expected = pathToFileURL(rendererIndex);
  return parsed.pathname === expected.pathname;
}

/**
 * The Content-Security-Policy the renderer runs under, sent with every page app://ferry/ serves.
 * 'self' is the app://ferry origin, so scripts, styles and fetches can reach Ferry's own files and
 * nothing else (under file:// it would have covered every local file).
 */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
