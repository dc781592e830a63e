import fc from 'fast-check';
import { sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_INDEX_URL, appResponseHeaders, mimeTypeFor, resolveAppFile } from '../../../src-main/electron/app-protocol-files.js';
import { isAppPageUrl, RENDERER_CSP } from '../../../src-main/electron/security.js';

const root = '/opt/Ferry/resources/app.asar/dist/renderer';

describe('resolveAppFile', () => {
  it('maps the index and assets to files inside the renderer folder', () => {
    expect(resolveAppFile(root, APP_INDEX_URL)).toEqual({ ok: true, file: `${root}/index.html`, mimeType: 'text/html; charset=utf-8' });
    expect(resolveAppFile(root, 'app://ferry/')).toMatchObject({ ok: true, file: `${root}/index.html` });
    expect(resolveAppFile(root, 'app://ferry/assets/index-kySgfSRE.js?v=1#x')).toEqual({
      ok: true,
      file: `${root}/assets/index-kySgfSRE.js`,
      mimeType: 'text/javascript; charset=utf-8',
    });
    expect(resolveAppFile(root, 'app://ferry/assets/my%20font.woff2')).toMatchObject({ ok: true, file: `${root}/assets/my font.woff2`, mimeType: 'font/woff2' });
  });

  it('folds whole dot segments (plain or %2e) the way the URL parser does, so they cannot leave the folder', () => {
    expect(resolveAppFile(root, 'app://ferry/../../../../etc/passwd')).toMatchObject({ ok: true, file: `${root}/etc/passwd` });
    expect(resolveAppFile(root, 'app://ferry/%2e%2e/%2E%2e/etc/passwd')).toMatchObject({ ok: true, file: `${root}/etc/passwd` });
    expect(resolveAppFile(root, 'app://ferry/assets/../index.html')).toMatchObject({ ok: true, file: `${root}/index.html` });
  });

  it('refuses percent-encoded traversal, backslashes and NUL bytes', () => {
    for (const url of [
      'app://ferry/..%2f..%2fetc%2fpasswd',
      'app://ferry/assets/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fshadow',
      'app://ferry/assets/..%5c..%5cwindows',
      'app://ferry/index.html%00.png',
      'app://ferry/.%2findex.html',
    ]) {
      const target = resolveAppFile(root, url);
      expect(target.ok, url).toBe(false);
    }
  });

  it('refuses other hosts, other schemes and malformed URLs with the right status', () => {
    expect(resolveAppFile(root, 'app://evil/index.html')).toMatchObject({ ok: false, status: 404 });
    expect(resolveAppFile(root, 'file:///opt/Ferry/resources/app.asar/dist/renderer/index.html')).toMatchObject({ ok: false, status: 404 });
    expect(resolveAppFile(root, 'app://ferry/%E0%A4%A')).toMatchObject({ ok: false, status: 400 });
    expect(resolveAppFile(root, 'not a url')).toMatchObject({ ok: false, status: 400 });
  });

  it('never yields a file outside the renderer folder, whatever the path', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom('..', '.', '%2e%2e', '%2E.', '%2f', '%5c', '%00', 'assets', 'index.html', ''), fc.string()), { maxLength: 8 }), (parts) => {
        const target = resolveAppFile(root, `app://ferry/${parts.join('/')}`);
        if (target.ok) expect(target.file.startsWith(root + sep)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('MIME types and headers', () => {
  it('names the types the built renderer uses, case-insensitively, and opaque bytes otherwise', () => {
    expect(mimeTypeFor('index.html')).toBe('text/html; charset=utf-8');
    expect(mimeTypeFor('assets/index.CSS')).toBe('text/css; charset=utf-8');
    expect(mimeTypeFor('assets/a.js.map')).toBe('application/json');
    expect(mimeTypeFor('icon.svg')).toBe('image/svg+xml');
    expect(mimeTypeFor('x.wasm')).toBe('application/wasm');
    expect(mimeTypeFor('LICENSE')).toBe('application/octet-stream');
    expect(mimeTypeFor('evil.exe')).toBe('application/octet-stream');
  });

  it('sends the CSP with HTML and nosniff with everything', () => {
    const html = appResponseHeaders('text/html; charset=utf-8', RENDERER_CSP);
    expect(html['content-security-policy']).toBe(RENDERER_CSP);
    expect(html['x-content-type-options']).toBe('nosniff');
    const script = appResponseHeaders('text/javascript; charset=utf-8', RENDERER_CSP);
    expect(script['content-security-policy']).toBeUndefined();
    expect(script['x-content-type-options']).toBe('nosniff');
  });

  it('keeps the CSP to the page origin: no file:, no remote hosts, no inline or eval scripts', () => {
    expect(RENDERER_CSP).toContain("default-src 'self'");
    expect(RENDERER_CSP).toContain("script-src 'self';");
    expect(RENDERER_CSP).not.toMatch(/file:|https?:|unsafe-eval/);
  });
});

describe('isAppPageUrl (IPC sender check)', () => {
  it('trusts only app://ferry/index.html', () => {
    expect(isAppPageUrl(APP_INDEX_URL)).toBe(true);
    expect(isAppPageUrl('app://ferry/index.html#/hosts')).toBe(true);
    for (const url of [
      'app://ferry/other.html',
      'app://ferry.evil/index.html',
      'app://evil/index.html',
      'app://user@ferry/index.html',
      'app://ferry:8080/index.html',
      'file:///opt/Ferry/resources/app.asar/dist/renderer/index.html',
      'https://ferry/index.html',
      'devtools://devtools/bundled/index.html',
      '',
      undefined,
    ]) {
      expect(isAppPageUrl(url), String(url)).toBe(false);
    }
  });
});
