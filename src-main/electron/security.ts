import { pathToFileURL } from 'node:url';

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

/** True when an IPC message comes from our own renderer page (file://…/renderer/index.html). */
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

/** The Content-Security-Policy the renderer runs under (also set as a response header). */
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
