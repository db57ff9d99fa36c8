/**
 * The browser benchmark's dedicated worker: one per run. It sets tfjs up as the app's worker does (wasm SIMD,
 * single-threaded or on the run's thread count, binaries served beside the bundle; webgpu from the browser's
 * adapter), makes the size's tensor and measures it with src/core/bench.ts.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { MemorySample } from '../core/bench';
import { benchOne, fileSizeTensor, simulatedSizeTensor } from '../core/bench';
import type { EffectTensor } from '../core/data/tensor';
import { AbortError } from '../core/model/train';
import { probeWebGpu } from '../worker/webgpu-probe';
import type { BackendOffer, PageToWorker, RunRequest, RunResult, WorkerToPage } from './protocol';

// The runner copies the tfjs wasm binaries (and the thread worker files, src/build/threaded-wasm.ts) next to
// the bundle.
setWasmPaths(new URL('./', globalThis.location.href).href);

/** The parts of the worker scope used here (valid under both the DOM and WebWorker libs). */
interface WorkerScope {
  postMessage(message: WorkerToPage): void;
  onmessage: ((event: MessageEvent<PageToWorker>) => void) | null;
}
/** Chromium's non-standard heap reading (absent in dedicated workers as of Chromium 156). */
interface PerformanceWithMemory {
  memory?: { usedJSHeapSize: number };
}

const scope = globalThis as unknown as WorkerScope;
const post = (message: WorkerToPage) => scope.postMessage(message);

/** What the app's worker would see: the same probe (src/worker/webgpu-probe.ts), then wasm and cpu. */
async function offer(): Promise<BackendOffer> {
  const probe = await probeWebGpu();
  const backends: BackendOffer['backends'] = [];
  if (probe.adapter !== null) backends.push('webgpu');
  if (typeof WebAssembly === 'object') backends.push('wasm');
  backends.push('cpu');
  return {
    backends,
    adapter: probe.adapter,
    isFallbackAdapter: probe.isFallbackAdapter,
    webgpuProblem: probe.problem ?? null,
  };
}

async function makeTensor(request: RunRequest): Promise<EffectTensor> {
  if (request.size !== 'pbmc') return simulatedSizeTensor(request.size);
  if (!request.file) throw new Error('The pbmc size needs its effects file.');
  return fileSizeTensor(request.file);
}

/** When the page asked to stop and when this worker handled that message, ms since the epoch. */
let stopAsked: { askedAt: number; handledAt: number } | null = null;
const now = () => performance.timeOrigin + performance.now();
let epochsDone = 0;

async function run(request: RunRequest): Promise<void> {
  const started = performance.now();
  const found = await offer();
  if (!found.backends.includes(request.backend)) {
    throw new Error(`${request.backend} is not offered: ${found.webgpuProblem ?? 'unknown reason'}`);
  }
  // One thread: the single-threaded build (the app's fallback); more: the threaded one (capped by tfjs).
  const threads = request.wasmThreads ?? 1;
  if (threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  else setThreadsCount(threads);
  if (!(await tf.setBackend(request.backend))) throw new Error(`${request.backend} failed to start.`);
  await tf.ready();
  let wasm: string | null = null;
  if (request.backend === 'wasm') {
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const threaded = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
    const count = threaded ? getThreadsCount() : 1;
    wasm = `${simd ? 'SIMD' : 'no SIMD'}, ${threaded ? 'threaded build' : 'single-threaded build'}, ${count} thread${count === 1 ? '' : 's'}`;
  }
  const tensor = await makeTensor(request);
  const madeSeconds = (performance.now() - started) / 1000;
  post({
    kind: 'progress',
    epoch: 0,
    text: `${request.backend} ${request.size}: tensor ${tensor.contexts.length}x${tensor.perturbations.length}x${tensor.genes.length} ready after ${madeSeconds.toFixed(1)} s`,
  });

  const memory = (performance as PerformanceWithMemory).memory;
  let peakGpuAllocated: number | null = null;
  const sampleMemory = (): MemorySample => {
    const allocated = (tf.memory() as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU;
    if (allocated !== undefined) peakGpuAllocated = Math.max(peakGpuAllocated ?? 0, allocated);
    return { heapBytes: memory?.usedJSHeapSize ?? 0 };
  };
  const measure = await benchOne(tensor, {
    preset: request.preset,
    maxEpochs: request.maxEpochs,
    sampleMemory,
    hooks: {
      onEpoch: (log) => {
        epochsDone = log.epoch;
        post({
          kind: 'progress',
          epoch: log.epoch,
          text: `${request.backend} ${request.size}: epoch ${log.epoch}/${log.maxEpochs} at ${log.elapsedSeconds.toFixed(1)} s, best ${log.bestEpoch}, ${(tf.memory().numBytes / 2 ** 20).toFixed(1)} MiB of tensors`,
        });
      },
      shouldStop: () => stopAsked !== null,
    },
  });
  const result: RunResult = {
    backend: request.backend,
    adapter: request.backend === 'webgpu' ? found.adapter : null,
    isFallbackAdapter: request.backend === 'webgpu' ? found.isFallbackAdapter : null,
    wasm,
    measure,
    peakGpuAllocatedMiB: peakGpuAllocated === null ? null : peakGpuAllocated / 2 ** 20,
    heapSource: memory ? 'performance.memory' : null,
  };
  post({ kind: 'done', result });
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.kind === 'probe') {
    offer().then((found) => post({ kind: 'offer', offer: found }));
  } else if (message.kind === 'ping') {
    post({ kind: 'pong', tensors: tf.memory().numTensors });
  } else if (message.kind === 'stop') {
    stopAsked ??= { askedAt: message.askedAt, handledAt: now() };
  } else {
    run(message.request).catch((error: unknown) => {
      if (error instanceof AbortError && stopAsked !== null) {
        const stoppedAt = now();
        post({
          kind: 'stopped',
          stop: {
            stopSeconds: (stoppedAt - stopAsked.askedAt) / 1000,
            afterMessageSeconds: (stoppedAt - stopAsked.handledAt) / 1000,
            epochs: epochsDone,
            tensorsAfterStop: tf.memory().numTensors,
          },
        });
      } else post({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
    });
  }
};
