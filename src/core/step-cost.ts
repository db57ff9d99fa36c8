/**
 * What a piece of tfjs work costs in kernels dispatched and bytes moved between the host and the backend,
 * counted the same way on every backend (cpu, wasm, webgpu), so that benchmark rows of different backends
 * and code versions compare (reports/BENCHMARKS.md explains the columns).
 *
 * - Kernels: the kernels tfjs's profiler (`tf.profile`) records, without BOOKKEEPING_KERNELS.
 * - Upload bytes: the bytes of every tensor made from JS values (`tf.tensor*`, `tf.scalar`, `tf.zeros`, the
 *   constants ops and gradients create), counted where tfjs's engine makes them.
 * - Download bytes: the bytes of every tensor read back to JS (`data`, `dataSync`, `array`, ...), counted
 *   where the engine routes the read to its backend.
 * Traffic a backend starts on its own is not seen (WebGPU's few bytes of uniforms per dispatch, its CPU
 * forwarding of tiny ops): it follows from the kernels counted, not from what the program hands over.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Kernels that rearrange or relabel data without arithmetic (a view, a copy, a dtype change), so counting
 * them would reward nothing a GPU step is waiting for. One list for every backend.
 */
export const BOOKKEEPING_KERNELS: ReadonlySet<string> = new Set(['Reshape', 'Identity', 'Cast']);

/** Kernels among the profiled kernel names that are not bookkeeping. */
export function countKernels(names: Iterable<string>): number {
  let count = 0;
  for (const name of names) if (!BOOKKEEPING_KERNELS.has(name)) count++;
  return count;
}

/** The totals at one instant of a metered run: profiled kernels so far (all of them), bytes moved so far. */
export interface CostMark {
  kernelIndex: number;
  uploadBytes: number;
  downloadBytes: number;
}

/** Kernels (bookkeeping excluded) and bytes moved between two marks. */
export interface CostCounts {
  kernels: number;
  uploadBytes: number;
  downloadBytes: number;
}

export interface Metered<T> {
  result: T;
  /** What ran between two marks taken during the run (a before b). */
  between(a: CostMark, b: CostMark): CostCounts;
}

type Engine = ReturnType<typeof tf.engine>;

/**
 * Runs work with the profiler and the transfer counters on; work may call mark() at any moment to take the
 * totals so far. Profiling and the counters are switched off again whether work resolves or rejects (a
 * rejection is rethrown afterwards). Profiling adds its own overhead, so time nothing metered.
 */
export async function meterWork<T>(work: (mark: () => CostMark) => Promise<T>): Promise<Metered<T>> {
  const engine: Engine = tf.engine();
  const { makeTensor, read, readSync } = engine;
  let uploadBytes = 0;
  let downloadBytes = 0;
  const bytesOf = (dataId: object) => engine.state.tensorInfo.get(dataId)?.bytes ?? 0;
  engine.makeTensor = function (this: Engine, ...args: Parameters<Engine['makeTensor']>) {
    const made = makeTensor.apply(this, args);
    uploadBytes += made.size * tf.util.bytesPerElement(made.dtype);
    return made;
  };
  engine.read = function (this: Engine, dataId) {
    downloadBytes += bytesOf(dataId);
    return read.call(this, dataId);
  };
  engine.readSync = function (this: Engine, dataId) {
    downloadBytes += bytesOf(dataId);
    return readSync.call(this, dataId);
  };
  const mark = (): CostMark => ({
    kernelIndex: engine.state.activeProfile.kernels.length,
    uploadBytes,
    downloadBytes,
  });
  let outcome: { ok: true; result: T } | { ok: false; error: unknown } | undefined;
  let kernelNames: string[];
  try {
    // tf.profile leaves profiling on when its query rejects, so the query never rejects.
    const profile = await tf.profile(async () => {
      try {
        outcome = { ok: true, result: await work(mark) };
      } catch (error) {
        outcome = { ok: false, error };
      }
    });
    kernelNames = profile.kernels.map((k) => k.name);
  } finally {
    engine.makeTensor = makeTensor;
    engine.read = read;
    engine.readSync = readSync;
  }
  if (!outcome) throw new Error('The metered work did not run.');
  if (!outcome.ok) throw outcome.error;
  return {
    result: outcome.result,
    between: (a, b) => ({
      kernels: countKernels(kernelNames.slice(a.kernelIndex, b.kernelIndex)),
      uploadBytes: b.uploadBytes - a.uploadBytes,
      downloadBytes: b.downloadBytes - a.downloadBytes,
    }),
  };
}
