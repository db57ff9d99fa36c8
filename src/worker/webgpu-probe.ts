/**
 * Asks the browser for a WebGPU adapter without creating a device. Kept apart from backend.ts (which imports
 * the wasm binaries through Vite) so that the browser benchmark's worker, bundled with esbuild, probes the
 * same way as the app's worker.
 */
import type { AdapterInfoLike, AdapterProbe } from './backend-plan';
import { describeAdapter } from './backend-plan';

/** The part of the WebGPU API used here (the worker's TypeScript lib has no WebGPU types). */
interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

export async function probeWebGpu(): Promise<AdapterProbe> {
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) return { adapter: null, isFallbackAdapter: false, problem: 'this browser has no WebGPU' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter)
      return { adapter: null, isFallbackAdapter: false, problem: 'no WebGPU adapter was offered' };
    // Chrome moved the flag from the adapter to adapter.info; accept either.
    const isFallbackAdapter = Boolean(adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter);
    return { adapter: describeAdapter(adapter.info), isFallbackAdapter };
  } catch (error) {
    return {
      adapter: null,
      isFallbackAdapter: false,
      problem: `requesting an adapter failed (${String(error)})`,
    };
  }
}
