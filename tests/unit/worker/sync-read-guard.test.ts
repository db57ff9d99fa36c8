import { describe, expect, it } from 'vitest';
import type { WebGpuBackendLike } from '../../../src/worker/sync-read-guard';
import { guardSyncReads, SYNC_GPU_READ_MESSAGE } from '../../../src/worker/sync-read-guard';

function fakeBackend() {
  const onCpu = {};
  const onGpu = {};
  const strings = {};
  const data = new Map<object, { values?: unknown; dtype?: string }>([
    [onCpu, { values: Float32Array.of(1, 2), dtype: 'float32' }],
    [onGpu, { dtype: 'float32' }],
    [strings, { dtype: 'string' }],
  ]);
  let gpuReads = 0;
  const backend: WebGpuBackendLike = {
    readSync(dataId) {
      if (dataId === onGpu) gpuReads++;
      return data.get(dataId)?.values ?? 'canvas read';
    },
    tensorMap: { get: (dataId) => data.get(dataId) },
  };
  return { backend, onCpu, onGpu, strings, gpuReads: () => gpuReads };
}

describe('guardSyncReads', () => {
  it('still returns values that are already on the CPU', () => {
    const { backend, onCpu, strings } = fakeBackend();
    guardSyncReads(backend);
    expect(backend.readSync(onCpu)).toEqual(Float32Array.of(1, 2));
    expect(backend.readSync(strings)).toBe('canvas read');
  });

  it('refuses a GPU read before it reaches the canvas path', () => {
    const fake = fakeBackend();
    guardSyncReads(fake.backend);
    expect(() => fake.backend.readSync(fake.onGpu)).toThrow(SYNC_GPU_READ_MESSAGE);
    expect(fake.gpuReads()).toBe(0);
  });

  it('wraps a backend once, however often the backend is selected again', () => {
    const fake = fakeBackend();
    guardSyncReads(fake.backend);
    const wrapped = fake.backend.readSync;
    guardSyncReads(fake.backend);
    expect(fake.backend.readSync).toBe(wrapped);
  });
});
