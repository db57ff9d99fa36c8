import * as tf from '@tensorflow/tfjs';
import type { Product } from './transfer-maths';

/*
 * What a custom kernel needs on a backend whose tensors JS can read in place (cpu, wasm): the inputs' backing
 * typed arrays and a way to make float32 outputs. Shared by the fused kernels (fixed-form-kernel.ts,
 * transfer-kernel.ts).
 */

/** The slice of the cpu and wasm backends the kernels use (their classes are not exported types of tfjs). */
interface CpuBackend {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}
interface WasmBackend {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
  makeOutput(shape: number[], dtype: 'float32', memoryOffset: undefined, values: Float32Array): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

/** An input's backing typed array: a view, not a copy (on wasm, into the heap). */
export type Reader = (info: tf.TensorInfo) => unknown;
/** A float32 output tensor holding `values`. */
export type Output = (shape: number[], values: Float32Array) => tf.TensorInfo;

/** The backends whose kernels run on the host. */
export type HostBackendName = 'cpu' | 'wasm';

/**
 * Reading and output on backend `name`, given the backend object tfjs hands a kernel. Read every input
 * before making an output: on wasm an allocation may grow and move the heap the views see.
 */
export function hostAccess(name: HostBackendName, backend: unknown): { read: Reader; output: Output } {
  if (name === 'cpu') {
    const cpu = backend as CpuBackend;
    return {
      read: (t) => cpu.data.get(t.dataId).values,
      output: (shape, values) => cpu.makeTensorInfo(shape, 'float32', values),
    };
  }
  const wasm = backend as WasmBackend;
  return {
    read: (t) => wasm.typedArrayFromHeap(t),
    output: (shape, values) => wasm.makeOutput(shape, 'float32', undefined, values),
  };
}

/** x [rows, cols] row-major transposed to [cols, rows]. */
function transposed(x: Float32Array | Float64Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c];
  return out;
}

/**
 * The wasm backend's own matMul (XNNPACK) called inside a kernel on arrays copied into its heap: a function
 * call, not a kernel the engine dispatches. Allocates on the heap, so views of it taken before are stale.
 * Transposed operands are transposed here first: the backend's matMul with transposeA or transposeB leaves
 * XNNPACK for a plain loop, 8 to 30 times slower at the transfer path's sizes (measured on the 2-core machine:
 * [200, 256]^T [256, 3072] 406 -> 12 ms; [256, 3072] [200, 3072]^T 103 -> 10 ms), while a transposition
 * costs one pass over the operand.
 */
export function wasmProduct(backend: unknown): Product {
  const wasm = backend as WasmBackend;
  const matMul = tf.getKernel(tf.BatchMatMul, 'wasm')!.kernelFunc;
  return (a, b, m, k, n, transposeA, transposeB) => {
    const left = wasm.makeOutput([1, m, k], 'float32', undefined, transposeA ? transposed(a, k, m) : a);
    const right = wasm.makeOutput([1, k, n], 'float32', undefined, transposeB ? transposed(b, n, k) : b);
    const out = matMul({
      inputs: { a: left, b: right },
      backend: backend as tf.KernelBackend,
      attrs: { transposeA: false, transposeB: false },
    }) as tf.TensorInfo;
    const values = wasm.typedArrayFromHeap(out).slice() as Float32Array;
    for (const info of [left, right, out]) wasm.disposeData(info.dataId);
    return values;
  };
}

/** A fused kernel's body: its inputs and attributes as the kernel's own types, and the backend object. */
export type KernelBody<Inputs, Attrs> = (
  inputs: Inputs,
  attrs: Attrs,
  backend: unknown,
) => tf.TensorInfo | tf.TensorInfo[];

/** A pair of fused kernels: the training loss with its gradient, and the predictions. */
export interface KernelPair<T> {
  lossAndGradient: T;
  predict: T;
}

/** Registers each backend's bodies of the two kernels named, once (tfjs's registry is global). */
export function registerKernelPair<Inputs, Attrs>(
  names: KernelPair<string>,
  bodies: Record<string, KernelPair<KernelBody<Inputs, Attrs>>>,
): void {
  for (const [backendName, pair] of Object.entries(bodies)) {
    for (const role of ['lossAndGradient', 'predict'] as const) {
      const body = pair[role];
      if (tf.getKernel(names[role], backendName)) continue;
      tf.registerKernel({
        kernelName: names[role],
        backendName,
        kernelFunc: ({ inputs, attrs, backend }) =>
          body(inputs as unknown as Inputs, attrs as unknown as Attrs, backend),
      });
    }
  }
}
