import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../core/backend-name';
import { UsageError } from './node-io';

/**
 * Activates a tfjs backend in Node. webgpu uses Dawn from the npm package `webgpu` and needs a Vulkan driver
 * (docs/DESIGN.md §9); it fails with a clear message when no adapter is found rather than falling back silently.
 */
export async function useBackend(name: string): Promise<{ backend: BackendName; adapter: string | null }> {
  if (name === 'cpu') {
    await tf.setBackend('cpu');
    return { backend: 'cpu', adapter: null };
  }
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new UsageError('The wasm backend failed to initialise.');
    return { backend: 'wasm', adapter: null };
  }
  if (name === 'webgpu') {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const gpu = create([]);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      throw new UsageError(
        'No WebGPU adapter: Dawn found no Vulkan driver (set VK_ICD_FILENAMES, see docs/DESIGN.md §9), use --backend cpu or wasm.',
      );
    }
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new UsageError('The webgpu backend failed to initialise.');
    const info = adapter.info;
    return { backend: 'webgpu', adapter: `${info.vendor} ${info.architecture} ${info.description}`.trim() };
  }
  throw new UsageError(`Unknown backend "${name}": expected cpu, wasm or webgpu.`);
}
