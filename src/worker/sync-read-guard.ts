/** The part of tfjs-backend-webgpu's backend that guardSyncReads wraps. */
export interface WebGpuBackendLike {
  readSync(dataId: object): unknown;
  tensorMap: { get(dataId: object): { values?: unknown; dtype?: string } | undefined };
}

export const SYNC_GPU_READ_MESSAGE =
  'A synchronous read (dataSync/arraySync) of a WebGPU tensor was attempted; in a browser worker it destroys ' +
  'the GPU device. The engine must read with `await tensor.data()`.';

const guarded = new WeakSet<object>();

/**
 * tfjs-backend-webgpu serves dataSync/arraySync of a GPU tensor by drawing it into an OffscreenCanvas
 * 'webgpu' context. In a Chromium worker that destroys the GPUDevice ("Device was destroyed"; the next
 * mapAsync fails with "A valid external Instance reference no longer exists"), and results read afterwards
 * are silently wrong (seen: C3TL Pearson 0). This wraps the backend's readSync, once: values already on the
 * CPU are still returned, a GPU read throws SYNC_GPU_READ_MESSAGE instead.
 */
export function guardSyncReads(backend: WebGpuBackendLike): void {
  if (guarded.has(backend)) return;
  guarded.add(backend);
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId: object) => {
    const data = backend.tensorMap.get(dataId);
    if (data && (data.values != null || data.dtype === 'string')) return readSync(dataId);
    throw new Error(SYNC_GPU_READ_MESSAGE);
  };
}
