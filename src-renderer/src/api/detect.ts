import { createElectronApi, electronPreload } from './electron';
import type { FerryApi } from './types';
import { createWebApi } from './web';

/** Electron when the preload exposed window.ferry, else the web bridge of `npm run web`. */
export function detectApi(): FerryApi {
  const preload = electronPreload();
  return preload ? createElectronApi(preload) : createWebApi();
}
