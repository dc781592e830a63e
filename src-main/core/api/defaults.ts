// Defaults every front end shows and the engine applies; no imports, so the renderer can load it.

/**
 * Ferry's downtime limit when the user sets none. QEMU's own is 300 ms, and QEMU switches over as
 * soon as what is left fits in the limit, so with 300 ms a guest paused for whatever happened to
 * be left: 120–180 ms in the benchmark, 47–322 ms across runs. With 100 ms (Proxmox's default
 * too) it paused 21–70 ms, with no extra pass and no longer total time.
 */
export const DEFAULT_DOWNTIME_LIMIT_MS = 100;
