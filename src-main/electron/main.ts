import { app, BrowserWindow, dialog, ipcMain, nativeTheme, safeStorage, session, shell } from 'electron';
import { fileURLToPath } from 'node:url';
import { FerryEngine } from '../core/engine.js';
import { ferryHome } from '../core/paths.js';
import { throttleEvents } from '../web/throttle.js';
import { EVENT_CHANNEL } from './channel-names.js';
import { registerIpc } from './ipc.js';
import { quitQuestion } from './quit-question.js';
import { SecretStore } from './secrets.js';
import { registerAppScheme, serveRenderer } from './app-protocol.js';
import { APP_INDEX_URL } from './app-protocol-files.js';
import { isAllowedExternalLink, isAppPageUrl, RENDERER_CSP } from './security.js';

// Thin glue: one window, the engine in this process, IPC on the contract, events pushed to the
// window (samples throttled to ~4 Hz per migration). Hardened per Electron's security checklist; the
// page comes from app://ferry/ (app-protocol.ts), never from file://.
const rendererRoot = fileURLToPath(new URL('../../renderer/', import.meta.url));
const preload = fileURLToPath(new URL('../../preload/preload.cjs', import.meta.url));

app.enableSandbox();
registerAppScheme();
const engine = new FerryEngine({ home: ferryHome() });
const secrets = new SecretStore(engine.home, safeStorage);
let mainWindow: BrowserWindow | null = null;

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1360,
    height: 860,
    minWidth: 960,
    minHeight: 600,
    title: 'Ferry',
    // The page's own background (styles.css --bg), so no light flash before a dark page paints.
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#16191d' : '#f4f5f7',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalLink(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  window.webContents.on('will-redirect', (event) => event.preventDefault());
  window.webContents.on('will-attach-webview', (event) => event.preventDefault());
  askBeforeClosingDuringMigrations(window);
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  void window.loadURL(APP_INDEX_URL);
  return window;
}

// Quitting while a migration runs asks first. Closing the last window quits on Linux and Windows, so
// it asks there too; Cmd+Q (or the menu's Quit) reaches before-quit first, which must ask before it
// closes the engine. One question at a time; once the user said quit, nothing asks again.
let quitConfirmed = false;
let askingToQuit = false;

/** Resolves true when nothing runs or the user chose to quit anyway. */
async function userAllowsQuit(window: BrowserWindow | null): Promise<boolean> {
  // If the engine cannot list them, let Ferry quit rather than trap the user.
  const question = quitQuestion(await engine.migrations.list().catch(() => []));
  if (question === null) return true;
  const options = { type: 'warning' as const, ...question, defaultId: 0, cancelId: 0, noLink: true };
  const { response } = window && !window.isDestroyed() ? await dialog.showMessageBox(window, options) : await dialog.showMessageBox(options);
  return response === 1;
}

/** Holds a quit or a close (the answer needs the engine, which answers asynchronously), then redoes it if allowed. */
function askThen(window: BrowserWindow | null, redo: () => void): void {
  if (askingToQuit) return;
  askingToQuit = true;
  void userAllowsQuit(window)
    .then((allowed) => {
      if (!allowed) return;
      quitConfirmed = true;
      redo();
    })
    .finally(() => {
      askingToQuit = false;
    });
}

function askBeforeClosingDuringMigrations(window: BrowserWindow): void {
  // On macOS closing the window leaves Ferry (and its migrations) running; only quitting asks.
  if (process.platform === 'darwin') return;
  window.on('close', (event) => {
    if (quitConfirmed) return;
    event.preventDefault();
    askThen(window, () => window.close());
  });
}

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [RENDERER_CSP] } });
  });
  serveRenderer(rendererRoot, RENDERER_CSP);

  registerIpc(ipcMain, {
    engine,
    secrets,
    isTrustedSender: isAppPageUrl,
  });
  const events = throttleEvents((event) => {
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(EVENT_CHANNEL, event);
  });
  engine.onEvent(events.push);

  mainWindow = createWindow();
  // Migrations a Ferry that stopped left unfinished (or in doubt) are settled at each launch.
  void engine.migrations.recoverNow().catch((error: unknown) => console.error(`Recovering unfinished migrations failed: ${(error as Error).message}`));
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });
  app.on('before-quit', (event) => {
    if (!quitConfirmed) {
      event.preventDefault();
      askThen(mainWindow, () => app.quit());
      return;
    }
    events.dispose();
    void engine.close();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
