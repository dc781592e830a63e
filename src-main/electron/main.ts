import { app, BrowserWindow, session, shell } from 'electron';
import { fileURLToPath } from 'node:url';

// Hardened defaults from Electron's security checklist; the IPC bridge to the engine is added by
// the desktop GUI work on top of this window.
const rendererIndex = fileURLToPath(new URL('../../renderer/index.html', import.meta.url));
const preload = fileURLToPath(new URL('../../preload/preload.cjs', import.meta.url));

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1200,
    height: 800,
    title: 'Ferry',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  void window.loadFile(rendererIndex);
  return window;
}

app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
