// npm 11 no longer runs dependency install scripts unless allowed, and offline installs skip the
// Electron download on purpose; fetch the binary on first `npm start` instead.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const electronDir = path.dirname(require.resolve('electron/package.json'));
const pathFile = path.join(electronDir, 'path.txt');
if (fs.existsSync(pathFile) && fs.existsSync(path.join(electronDir, 'dist', fs.readFileSync(pathFile, 'utf8')))) {
  process.exit(0);
}
console.log('Downloading the Electron runtime (first start only)…');
const result = spawnSync(process.execPath, [path.join(electronDir, 'install.js')], {
  stdio: 'inherit',
  env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' },
});
if (result.status !== 0) {
  console.error('Could not download Electron. Without internet access run `npm run web` and open the printed URL instead.');
  process.exit(result.status ?? 1);
}
