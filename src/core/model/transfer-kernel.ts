import * as tf from '@tensorflow/tfjs';
import type { StepOptimizer } from './adam-kernel';
import {
  hostAccess,
  registerKernelPair,
  wasmProduct,
  type HostBackendName,
  type KernelBody,
  type KernelPair,
} from './host-kernel';
import {
  meanSquaredError,
  transferForward,
  type TransferInputs,
  type TransferParameters,
  type TransferSwitches,
} from './transfer';
import {
  hostProduct,
  TRANSFER_INPUT_NAMES,
  transferLossAndGradient,
  transferPredict,
  type TransferArrays,
  type TransferFlags,
  type TransferSizes,
} from './transfer-maths';
import { transferWebGpu, type TransferInputInfos } from './transfer-webgpu';

/*
 * The transfer path's training step and held-out predictions in one tfjs kernel each (instead of about 350
 * and 60 small kernels from autodiff and transferForward), registered for cpu and wasm, which run
 * transfer-maths.ts on the tensors' own arrays (wasm's large products in its own matMul), and for webgpu,
 * which runs transfer-webgpu.ts (14 dispatches for a step, 6 for predictions).
 */

export const TRANSFER_KERNEL = 'C3tlTransferGrad';
export const TRANSFER_PREDICT_KERNEL = 'C3tlTransferPredict';

function sizesOf(inputs: TransferInputInfos): TransferSizes {
  const [Q, K, F] = inputs.devQuery.shape;
  const [S, G] = inputs.residual.shape;
  return { Q, S, K, F, G };
}

/** The kernels' bodies on a host backend: the shared maths on the inputs' arrays, outputs made after. */
function hostBodies(name: HostBackendName) {
  const arraysOf = (inputs: TransferInputInfos, backend: unknown) => {
    const { read, output } = hostAccess(name, backend);
    const names = TRANSFER_INPUT_NAMES.filter((n) => inputs[n] !== undefined);
    // On wasm the products allocate on the heap, which may move it: the inputs are copied off it first.
    const own = (values: Float32Array) => (name === 'wasm' ? values.slice() : values);
    const arrays = Object.fromEntries(
      names.map((n) => [n, own(read(inputs[n]!) as Float32Array)]),
    ) as unknown as TransferArrays;
    const product = name === 'wasm' ? wasmProduct(backend) : hostProduct;
    return { arrays, output, product, sizes: sizesOf(inputs) };
  };
  const lossAndGradient = (inputs: TransferInputInfos, flags: TransferFlags, backend: unknown) => {
    const { arrays, output, product, sizes } = arraysOf(inputs, backend);
    const gradient = new Float32Array(inputs.packed.shape[0]);
    const loss = transferLossAndGradient(arrays, sizes, flags, gradient, product);
    return [output([], Float32Array.of(loss)), output(inputs.packed.shape, gradient)];
  };
  const predict = (inputs: TransferInputInfos, flags: TransferFlags, backend: unknown) => {
    const { arrays, output, product, sizes } = arraysOf(inputs, backend);
    const predicted = new Float32Array(sizes.Q * sizes.G);
    transferPredict(arrays, sizes, flags, predicted, product);
    return output([sizes.Q, sizes.G], predicted);
  };
  return { lossAndGradient, predict };
}

type Body = KernelBody<TransferInputInfos, TransferFlags>;

/** Each backend's bodies of the two kernels. */
const BODIES: Record<string, KernelPair<Body>> = {
  cpu: hostBodies('cpu'),
  wasm: hostBodies('wasm'),
  webgpu: {
    lossAndGradient: (inputs, flags, backend) => transferWebGpu('gradient', inputs, flags, backend),
    predict: (inputs, flags, backend) => transferWebGpu('predict', inputs, flags, backend)[0],
  },
};

function registerTransferKernels(): void {
  registerKernelPair({ lossAndGradient: TRANSFER_KERNEL, predict: TRANSFER_PREDICT_KERNEL }, BODIES);
}

/** Whether the fused transfer kernels run on the active backend (cpu, wasm and webgpu). */
export function transferKernelServes(): boolean {
  return tf.getBackend() in BODIES;
}

function kernelInputs(params: TransferParameters, inputs: TransferInputs, target?: tf.Tensor2D) {
  return { packed: params.packed, ...inputs, ...(target && { target }) } as unknown as tf.NamedTensorMap;
}

function flagsOf(switches: TransferSwitches): TransferFlags {
  return { deviations: switches.deviations, context: switches.context };
}

/**
 * The episode's loss mean((transferForward - target)^2) over [Q, G] (a scalar) and its gradient with
 * respect to the packed weights, [2F + G + 4]: one kernel. The caller disposes both.
 */
export function transferLossAndGradients(
  params: TransferParameters,
  switches: TransferSwitches,
  inputs: TransferInputs,
  target: tf.Tensor2D,
): { loss: tf.Scalar; gradient: tf.Tensor1D } {
  registerTransferKernels();
  const [loss, gradient] = tf.engine().runKernel(TRANSFER_KERNEL, kernelInputs(params, inputs, target), {
    ...flagsOf(switches),
  }) as tf.Tensor[];
  return { loss: loss as tf.Scalar, gradient: gradient as tf.Tensor1D };
}

/** transferForward's [Q, G] in one kernel. The caller disposes it. */
export function transferPredictions(
  params: TransferParameters,
  switches: TransferSwitches,
  inputs: TransferInputs,
): tf.Tensor2D {
  registerTransferKernels();
  return tf.engine().runKernel(TRANSFER_PREDICT_KERNEL, kernelInputs(params, inputs), {
    ...flagsOf(switches),
  }) as tf.Tensor2D;
}

/**
 * One Adam step of the path on an episode, target [Q, G]: the fused kernel's gradient when `fused` (callers
 * check transferKernelServes), else autodiff of meanSquaredError(transferForward).
 */
export function transferStep(
  optimizer: StepOptimizer,
  params: TransferParameters,
  switches: TransferSwitches,
  inputs: TransferInputs,
  target: tf.Tensor2D,
  fused: boolean,
): void {
  const { name } = params.packed;
  if (!fused) {
    // What tf.Optimizer.minimize does, on any StepOptimizer.
    const { value, grads } = tf.variableGrads(
      () => meanSquaredError(transferForward(params, switches, inputs), target),
      [params.packed],
    );
    optimizer.applyGradients([{ name, tensor: grads[name] }]);
    tf.dispose([value, ...Object.values(grads)]);
    return;
  }
  const { loss, gradient } = transferLossAndGradients(params, switches, inputs, target);
  optimizer.applyGradients([{ name, tensor: gradient }]);
  tf.dispose([loss, gradient]);
}

/** transferForward's [Q, G]: the fused kernel when `fused`, else tfjs ops. The caller disposes it. */
export function transferOutput(
  params: TransferParameters,
  switches: TransferSwitches,
  inputs: TransferInputs,
  fused: boolean,
): tf.Tensor2D {
  return fused
    ? transferPredictions(params, switches, inputs)
    : tf.tidy(() => transferForward(params, switches, inputs));
}
