/**
 * Activates the tfjs backend for the worker: 'auto' takes the fastest one measured on this device
 * (calibrate.ts), or by rule WebGPU on a real GPU, wasm (SIMD) otherwise, cpu as the last resort. The user
 * may override the choice.
 */
// The same tfjs instance as src/core (the full package registers the cpu backend and the gradients).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendInfo, BackendName, BackendPreference } from './api-types';
import type { AdapterInfoLike, AdapterProbe } from './backend-plan';
import { describeAdapter } from './backend-plan';
import type { CalibrationOutcome } from './calibrate-rules';
import { calibratedPlan } from './calibrate-rules';
import type { WebGpuBackendLike } from './sync-read-guard';
import { guardSyncReads } from './sync-read-guard';

// The threaded wasm build starts its pthread workers from the factory's source text (Function.toString);
// the production minifier renames a variable that text relies on, so those workers die with
// "ReferenceError: e is not defined" and the backend never starts. Single-threaded SIMD is used instead.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

// The binaries are emitted by Vite next to the bundle; tfjs would otherwise look beside its own script.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
});

/** The part of the WebGPU API used here (the worker's TypeScript lib has no WebGPU types). */
interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

/** Asks the browser for a WebGPU adapter without creating a device. */
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

async function wasmDetail(): Promise<{ threads: boolean; text: string }> {
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  const count = threads ? getThreadsCount() : 1;
  return { threads, text: `${simd ? 'SIMD' : 'no SIMD'}, ${count} thread${count === 1 ? '' : 's'}` };
}

/** Makes `name` the active tfjs backend: null once it runs, else why it could not start. */
export async function activateBackend(name: BackendName): Promise<string | null> {
  try {
    if (!(await tf.setBackend(name))) return `${name} failed to start`;
    await tf.ready();
    if (name === 'webgpu') guardSyncReads(tf.backend() as unknown as WebGpuBackendLike);
    return null;
  } catch (error) {
    return `${name} failed to start (${String(error)})`;
  }
}

/** Backends that can run here: webgpu when an adapter (fallback ones included) was offered, wasm, cpu. */
export function availableBackends(probe: AdapterProbe): BackendName[] {
  const available: BackendName[] = [];
  if (probe.adapter !== null) available.push('webgpu');
  if (typeof WebAssembly === 'object') available.push('wasm');
  available.push('cpu');
  return available;
}

export interface SelectOptions {
  /** The adapter probe, when the caller already has one. */
  probe?: AdapterProbe;
  /** Calibration figures for 'auto' (or why there are none); without them 'auto' follows the rule. */
  calibration?: CalibrationOutcome | null;
}

/**
 * Activates the best backend for the preference and says which one and why. tf.setBackend resolves to
 * false (it does not throw) when a backend fails to initialise, so every attempt is checked.
 */
export async function selectBackend(
  preference: BackendPreference,
  options: SelectOptions = {},
): Promise<BackendInfo> {
  const probe = options.probe ?? (await probeWebGpu());
  const available = availableBackends(probe);
  const calibration = options.calibration ?? null;
  const plan = calibratedPlan(preference, probe, available, calibration);

  const failures: string[] = [];
  for (const name of plan.order) {
    const failure = await activateBackend(name);
    if (failure !== null) {
      failures.push(failure);
      continue;
    }
    const wasm = name === 'wasm' ? await wasmDetail() : null;
    const detail = wasm ? ` (${wasm.text})` : '';
    const why =
      failures.length === 0 ? plan.reason : `${plan.reason}; but ${failures.join('; ')}: using ${name}`;
    return {
      name,
      adapter: probe.adapter,
      isFallbackAdapter: probe.isFallbackAdapter,
      reason: `${why}${detail}`,
      available,
      calibration: calibration?.ok ? calibration.info : null,
    };
  }
  throw new Error(`No tfjs backend could start: ${failures.join('; ')}`);
}
