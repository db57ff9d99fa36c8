import * as tf from '@tensorflow/tfjs';
import {
  FIXED_FORM_INPUT_NAMES,
  fixedFormLossAndGradient,
  fixedFormPredict,
  type FixedFormArrays,
  type FixedFormFlags,
} from './fixed-form-maths';
import {
  fixedFormPredictWebGpu,
  fixedFormWebGpu,
  WEBGPU_MAX_CONTEXTS,
  type FixedFormInputInfos,
} from './fixed-form-webgpu';
import {
  hostAccess,
  registerKernelPair,
  type HostBackendName,
  type KernelBody,
  type KernelPair,
  type Output,
  type Reader,
} from './host-kernel';

/*
 * The fixed form (network off) in two tfjs kernels registered for cpu, wasm and webgpu: the training loss
 * with its gradient with respect to a gene block's packed gates (instead of about a hundred small kernels
 * from autodiff), and the predictions that held-out scoring reads (instead of about thirty from forward).
 * cpu and wasm run fixed-form-maths.ts on the tensors' own arrays; webgpu runs fixed-form-webgpu.ts.
 */

export const FIXED_FORM_KERNEL = 'C3tlFixedFormGrad';
export const FIXED_FORM_PREDICT_KERNEL = 'C3tlFixedFormPredict';

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

/** The inputs' backing typed arrays (float32, and int32 for queryContexts): views, not copies. */
function arraysOf(inputs: FixedFormInputInfos, read: Reader): FixedFormArrays {
  const names = FIXED_FORM_INPUT_NAMES.filter((name) => inputs[name] !== undefined);
  return Object.fromEntries(names.map((name) => [name, read(inputs[name])])) as unknown as FixedFormArrays;
}

/**
 * The kernels on a backend whose tensors JS can read in place (cpu, wasm): the shared maths on the inputs'
 * arrays, and the outputs made only then (on wasm an allocation may grow and move the heap the views see).
 */
function hostBodies(read: Reader, output: Output) {
  const lossAndGradient = (inputs: FixedFormInputInfos, flags: FixedFormFlags) => {
    const gradient = new Float32Array(inputs.gates.shape[0] * inputs.gates.shape[1]);
    const loss = fixedFormLossAndGradient(arraysOf(inputs, read), flags, gradient);
    return [output([], Float32Array.of(loss)), output(inputs.gates.shape, gradient)];
  };
  const predict = (inputs: FixedFormInputInfos, flags: FixedFormFlags) => {
    const shape = [inputs.queryContexts.shape[0], inputs.gates.shape[1]];
    const predicted = new Float32Array(shape[0] * shape[1]);
    fixedFormPredict(arraysOf(inputs, read), flags, predicted);
    return output(shape, predicted);
  };
  return { lossAndGradient, predict };
}

/** A kernel body: a list of outputs (loss and gradient) or one output (predictions, returned as one tensor). */
type Body = KernelBody<FixedFormInputInfos, FixedFormFlags>;

/** A host backend's bodies of the two kernels, given the backend object tfjs hands the kernel. */
function hostBodiesOn(name: HostBackendName): KernelPair<Body> {
  const bodies = (backend: unknown) => {
    const { read, output } = hostAccess(name, backend);
    return hostBodies(read, output);
  };
  return {
    lossAndGradient: (inputs, flags, backend) => bodies(backend).lossAndGradient(inputs, flags),
    predict: (inputs, flags, backend) => bodies(backend).predict(inputs, flags),
  };
}

/** Each backend's bodies of the two kernels. */
const BODIES: Record<string, KernelPair<Body>> = {
  cpu: hostBodiesOn('cpu'),
  wasm: hostBodiesOn('wasm'),
  webgpu: { lossAndGradient: fixedFormWebGpu, predict: fixedFormPredictWebGpu },
};

function registerFixedFormKernels(): void {
  registerKernelPair({ lossAndGradient: FIXED_FORM_KERNEL, predict: FIXED_FORM_PREDICT_KERNEL }, BODIES);
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

/** The inputs of the prediction kernel: FixedFormTensors without the loss weights. */
export type FixedFormPredictTensors = Omit<FixedFormTensors, 'queryWeights' | 'geneWeights'>;

/**
 * The fixed form's scaled predictions of the queries on a gene block, [Q, Gb] (c3tl.ts forward with the
 * network off; rows' observed part unused): one kernel. The caller disposes it.
 */
export function fixedFormPredictions(inputs: FixedFormPredictTensors, flags: FixedFormFlags): tf.Tensor2D {
  registerFixedFormKernels();
  const attrs = { denoise: flags.denoise, shift: flags.shift, slope: flags.slope };
  return tf
    .engine()
    .runKernel(FIXED_FORM_PREDICT_KERNEL, inputs as unknown as tf.NamedTensorMap, attrs) as tf.Tensor2D;
}
