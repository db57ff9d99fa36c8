import type * as tf from '@tensorflow/tfjs';

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
}

/** An input's backing typed array: a view, not a copy (on wasm, into the heap). */
export type Reader = (info: tf.TensorInfo) => unknown;
/** A float32 output tensor holding `values`. */
export type Output = (shape: number[], values: Float32Array) => tf.TensorInfo;

/** The backends whose kernels run on the host. */
export const HOST_BACKENDS = ['cpu', 'wasm'] as const;
export type HostBackendName = (typeof HOST_BACKENDS)[number];

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
