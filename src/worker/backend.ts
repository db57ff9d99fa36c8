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
import type { AdapterProbe } from './backend-plan';
import type { CalibrationOutcome } from './calibrate-rules';
import { calibratedPlan } from './calibrate-rules';
import type { WebGpuBackendLike } from './sync-read-guard';
import { guardSyncReads } from './sync-read-guard';
import type { WasmStarter } from './wasm-threads';
import { expectedWasmThreads, startWasm } from './wasm-threads';
import { probeWebGpu } from './webgpu-probe';

export { probeWebGpu };

// Threads need SharedArrayBuffer (cross-origin isolation); the built app serves the thread workers as its own
// files (src/build/threaded-wasm.ts), so the policy stays worker-src 'self'.
const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
const logicalCores = (globalThis.navigator as { hardwareConcurrency?: number } | undefined)
  ?.hardwareConcurrency;
if (expectedWasmThreads(isolated, logicalCores) === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

// The binaries are emitted by Vite next to the bundle; tfjs would otherwise look beside its own script.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
});

/** The priority tfjs-backend-wasm registers 'wasm' with (re-registered after an abandoned start). */
const WASM_PRIORITY = 2;

/** Why the threaded build was given up on this page, if it was. */
let wasmThreadsProblem: string | null = null;

const tfWasm: WasmStarter = {
  threaded: async () => Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
  start: () => tf.setBackend('wasm'),
  disableThreads: () => tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false),
  forgetPendingStart: () => {
    const factory = tf.findBackendFactory('wasm');
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', factory, WASM_PRIORITY);
  },
};

async function wasmDetail(): Promise<{ threads: number; text: string }> {
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threaded = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  const threads = threaded ? getThreadsCount() : 1;
  const fellBack = wasmThreadsProblem === null ? '' : `; ${wasmThreadsProblem}`;
  return {
    threads,
    text: `${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}${fellBack}`,
  };
}

/** Makes `name` the active tfjs backend: null once it runs, else why it could not start. */
export async function activateBackend(name: BackendName): Promise<string | null> {
  try {
    if (name === 'wasm') {
      const outcome = await startWasm(tfWasm);
      wasmThreadsProblem = outcome.threadsProblem ?? wasmThreadsProblem;
      if (!outcome.started) return 'wasm failed to start';
    } else if (!(await tf.setBackend(name))) return `${name} failed to start`;
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
      wasmThreads: wasm?.threads ?? null,
      calibration: calibration?.ok ? calibration.info : null,
    };
  }
  throw new Error(`No tfjs backend could start: ${failures.join('; ')}`);
}
