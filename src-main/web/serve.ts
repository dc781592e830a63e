import { fileURLToPath } from 'node:url';
import { FerryEngine } from '../core/engine.js';
import { ferryHome } from '../core/paths.js';
import { startWebServer } from './server.js';

// `npm run web`: the same UI as the desktop app, in any browser, on 127.0.0.1 only.
const rendererDir = fileURLToPath(new URL('../../renderer/', import.meta.url));
const engine = new FerryEngine({ home: ferryHome() });
const requested = process.env['FERRY_WEB_PORT'];
const port = requested === undefined || requested === '' ? 0 : Number(requested);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`FERRY_WEB_PORT must be a port number (0 = any free port), not "${requested}"`);
  process.exit(2);
}

const running = await startWebServer({ engine, rendererDir, port });
console.log(`Ferry is serving on ${running.url}`);
// Migrations a Ferry that stopped left unfinished (or in doubt) are settled now, in the background;
// their outcome reaches every window as a migration update.
void engine.migrations.recoverNow().catch((error: unknown) => console.error(`Recovering unfinished migrations failed: ${(error as Error).message}`));

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void Promise.allSettled([running.close(), engine.close()]).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
