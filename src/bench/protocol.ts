/**
 * Messages of the browser benchmark: the runner (src/cli/bench-browser.ts) drives the page through
 * `window.c3tlBench`, the page starts one dedicated worker per run and talks to it with these messages.
 * Everything here is plain, structured-cloneable data (a File for the pbmc size).
 */
import type { BackendName } from '../core/backend-name';
import type { BenchMeasure, BenchSize } from '../core/bench';
import type { ModelPreset } from '../core/eval/protocol';

export type BenchBackend = BackendName;

/** What the browser offers, as seen from a dedicated worker. */
export interface BackendOffer {
  backends: BenchBackend[];
  /** The WebGPU adapter: vendor, architecture, description; null without one. */
  adapter: string | null;
  /** True when the adapter is a software fallback (SwiftShader on a machine without a GPU). */
  isFallbackAdapter: boolean;
  /** Why webgpu is not offered, if it is not. */
  webgpuProblem: string | null;
}

export interface RunRequest {
  backend: BenchBackend;
  size: BenchSize;
  preset: ModelPreset;
  maxEpochs: number;
  /** wasm threads: 1 runs the single-threaded build, more the threaded one (tfjs caps it at cores / 2). */
  wasmThreads?: number;
  /** The effects file for the pbmc size (given to the page by the runner, never stored in the repo). */
  file?: File;
}

/** A finished run, as the worker measured it. */
export interface RunResult {
  backend: BenchBackend;
  adapter: string | null;
  isFallbackAdapter: boolean | null;
  /** wasm build details (SIMD, threads), null for other backends. */
  wasm: string | null;
  measure: BenchMeasure;
  /** Peak of the backend's allocated GPU buffers (webgpu's numBytesAllocatedInGPU, pool included), MiB. */
  peakGpuAllocatedMiB: number | null;
  /** Where the in-worker heap figure came from; the runner adds a CDP reading when this is null. */
  heapSource: 'performance.memory' | null;
}

/** A run stopped through shouldStop. */
export interface StopResult {
  /**
   * From the page asking to stop to training having rejected with its AbortError (and freed its tensors),
   * seconds: shouldStop is polled between epochs, so this is at most about one epoch.
   */
  stopSeconds: number;
  /** From the worker handling the stop message to the AbortError, seconds (the message waits for a yield). */
  afterMessageSeconds: number;
  /** Epochs completed before the stop. */
  epochs: number;
  /** tfjs tensors still allocated once the stop was handled (0: nothing leaked). */
  tensorsAfterStop: number;
  /** The worker answered a message after the stop (it was not killed, the training just ended). */
  workerAlive: boolean;
}

export type PageToWorker =
  | { kind: 'probe' }
  | { kind: 'run'; request: RunRequest }
  /** askedAt: performance.timeOrigin + performance.now() of the page, ms (comparable across page and worker). */
  | { kind: 'stop'; askedAt: number }
  | { kind: 'ping' };

export type WorkerToPage =
  | { kind: 'offer'; offer: BackendOffer }
  | { kind: 'progress'; text: string; epoch: number }
  | { kind: 'done'; result: RunResult }
  | { kind: 'stopped'; stop: Omit<StopResult, 'workerAlive'> }
  | { kind: 'pong'; tensors: number }
  | { kind: 'error'; message: string };

/** The outcome of one run as the page reports it to the runner. */
export type RunOutcome =
  | { kind: 'done'; result: RunResult }
  | { kind: 'stopped'; stop: StopResult }
  | { kind: 'error'; message: string };

/** The page's API, on `window.c3tlBench`. */
export interface BenchPageApi {
  /** The backends a dedicated worker of this browser can use. */
  probe(): Promise<BackendOffer>;
  /** Runs one backend on one size in a fresh worker, which is terminated afterwards. */
  run(request: Omit<RunRequest, 'file'>): Promise<RunOutcome>;
  /** Asks the running worker to stop training (hooks.shouldStop) at its next epoch boundary. */
  stop(): void;
  /** Epochs the running worker has completed (0 when none is running). */
  epochs(): number;
}
