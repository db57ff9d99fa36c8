import * as tf from '@tensorflow/tfjs';
import {
  FIXED_FORM_INPUT_NAMES,
  fixedFormLossAndGradient,
  type FixedFormArrays,
  type FixedFormFlags,
} from './fixed-form-maths';
import { fixedFormWebGpu, WEBGPU_MAX_CONTEXTS, type FixedFormInputInfos } from './fixed-form-webgpu';

/*
 * The fixed form's loss and its gradient with respect to a gene block's packed gates in one tfjs kernel
 * (instead of about a hundred small ones from autodiff), registered for cpu, wasm and webgpu.
 */

export const FIXED_FORM_KERNEL = 'C3tlFixedFormGrad';

/** The kernel's inputs, shapes as in FixedFormArrays (gateScale [4, 1], moments [8C, Gb], rows [3Q, Gb]). */
export interface FixedFormTensors {
  gates: tf.Tensor2D;
  gateScale: tf.Tensor2D;
  moments: tf.Tensor2D;
  rows: tf.Tensor2D;
  queryContexts: tf.Tensor1D;
  queryWeights: tf.Tensor1D;
  geneWeights: tf.Tensor1D;
}

/** The slice of the cpu and wasm backends the kernel uses (their classes are not exported types of tfjs). */
interface CpuBackend {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}
interface WasmBackend {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
  makeOutput(shape: number[], dtype: 'float32', memoryOffset: undefined, values: Float32Array): tf.TensorInfo;
}

/**
 * The shared maths on the inputs' backing typed arrays (float32, and int32 for queryContexts; views, not
 * copies): the loss and the [4, Gb] gradient.
 */
function computeOnHost(
  inputs: FixedFormInputInfos,
  flags: FixedFormFlags,
  read: (info: tf.TensorInfo) => unknown,
) {
  const arrays = Object.fromEntries(FIXED_FORM_INPUT_NAMES.map((name) => [name, read(inputs[name])]));
  const gradient = new Float32Array(inputs.gates.shape[0] * inputs.gates.shape[1]);
  const loss = fixedFormLossAndGradient(arrays as unknown as FixedFormArrays, flags, gradient);
  return { loss: Float32Array.of(loss), gradient };
}

function cpuKernel(inputs: FixedFormInputInfos, flags: FixedFormFlags, backend: unknown): tf.TensorInfo[] {
  const cpu = backend as CpuBackend;
  const { loss, gradient } = computeOnHost(inputs, flags, (t) => cpu.data.get(t.dataId).values);
  return [
    cpu.makeTensorInfo([], 'float32', loss),
    cpu.makeTensorInfo(inputs.gates.shape, 'float32', gradient),
  ];
}

function wasmKernel(inputs: FixedFormInputInfos, flags: FixedFormFlags, backend: unknown): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  // All reads of the heap happen before any output is allocated: an allocation may grow and move the heap.
  const { loss, gradient } = computeOnHost(inputs, flags, (t) => wasm.typedArrayFromHeap(t));
  return [
    wasm.makeOutput([], 'float32', undefined, loss),
    wasm.makeOutput(inputs.gates.shape, 'float32', undefined, gradient),
  ];
}

const BODIES = { cpu: cpuKernel, wasm: wasmKernel, webgpu: fixedFormWebGpu };

function registerFixedFormKernels(): void {
  for (const [backendName, body] of Object.entries(BODIES)) {
    if (tf.getKernel(FIXED_FORM_KERNEL, backendName)) continue;
    tf.registerKernel({
      kernelName: FIXED_FORM_KERNEL,
      backendName,
      kernelFunc: ({ inputs, attrs, backend }) =>
        body(inputs as unknown as FixedFormInputInfos, attrs as unknown as FixedFormFlags, backend),
    });
  }
}

/** Whether the fused kernel serves a step of C contexts on the active backend. */
export function fixedFormKernelServes(contexts: number): boolean {
  const backend = tf.getBackend();
  if (backend === 'webgpu') return contexts <= WEBGPU_MAX_CONTEXTS;
  return backend === 'cpu' || backend === 'wasm';
}

/**
 * The fixed form's loss on a gene block (a scalar, the value episodeLoss returns with the network off) and
 * its gradient with respect to the block's gates, [4, Gb]: one kernel. The caller disposes both.
 */
export function fixedFormLossAndGradients(
  inputs: FixedFormTensors,
  flags: FixedFormFlags,
): { loss: tf.Scalar; gradient: tf.Tensor2D } {
  registerFixedFormKernels();
  const attrs = { denoise: flags.denoise, shift: flags.shift, slope: flags.slope };
  const [loss, gradient] = tf
    .engine()
    .runKernel(FIXED_FORM_KERNEL, inputs as unknown as tf.NamedTensorMap, attrs) as tf.Tensor[];
  return { loss: loss as tf.Scalar, gradient: gradient as tf.Tensor2D };
}
