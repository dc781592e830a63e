import { contextBridge } from 'electron';

// One method per channel is exposed here once the engine's IPC is registered; nothing generic.
contextBridge.exposeInMainWorld('ferry', { shell: 'electron' as const });
