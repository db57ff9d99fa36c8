import * as tf from '@tensorflow/tfjs';
import { adamUpdate, nextBetaPowers, type AdamScalars } from './adam-maths';
import { adamWebGpu } from './adam-webgpu';
import { hostAccess, type HostBackendName } from './host-kernel';

/*
 * tfjs's Adam in one kernel per variable update (instead of about eighteen): registered for cpu and wasm
 * (adam-maths.ts on the tensors' arrays) and webgpu (adam-webgpu.ts). FusedAdam holds the state and applies
 * it; the variable takes the kernel's output by assign, which runs no kernel.
 */

export const ADAM_KERNEL = 'C3tlAdam';

/** The kernel's inputs: the variable, its moments [2N] (first then second) and its gradient (x's shape). */
interface AdamInputInfos {
  x: tf.TensorInfo;
  moments: tf.TensorInfo;
  gradient: tf.TensorInfo;
}

type AdamBody = (inputs: AdamInputInfos, scalars: AdamScalars, backend: unknown) => tf.TensorInfo[];

/** The kernel on a host backend: [new variable (x's shape), new moments [2N]]. */
function hostBody(name: HostBackendName): AdamBody {
  return (inputs, scalars, backend) => {
    const { read, output } = hostAccess(name, backend);
    const [x, moments, gradient] = [inputs.x, inputs.moments, inputs.gradient].map(
      (info) => read(info) as Float32Array,
    );
    const nextX = new Float32Array(x.length);
    const nextMoments = new Float32Array(moments.length);
    adamUpdate(x, moments, gradient, scalars, nextX, nextMoments);
    return [output(inputs.x.shape, nextX), output(inputs.moments.shape, nextMoments)];
  };
}

const BODIES: Record<string, AdamBody> = {
  cpu: hostBody('cpu'),
  wasm: hostBody('wasm'),
  webgpu: adamWebGpu,
};

function registerAdamKernel(): void {
  for (const [backendName, body] of Object.entries(BODIES)) {
    if (tf.getKernel(ADAM_KERNEL, backendName)) continue;
    tf.registerKernel({
      kernelName: ADAM_KERNEL,
      backendName,
      kernelFunc: ({ inputs, attrs, backend }) =>
        body(inputs as unknown as AdamInputInfos, attrs as unknown as AdamScalars, backend),
    });
  }
}

/** Whether the fused Adam kernel runs on the active backend. */
export function adamKernelServes(): boolean {
  return Object.hasOwn(BODIES, tf.getBackend());
}

/** What the training steps need of an optimiser: tf.train.adam and FusedAdam both are one. */
export interface StepOptimizer {
  applyGradients(gradients: { name: string; tensor: tf.Tensor }[]): void;
  dispose(): void;
}

/**
 * tfjs's Adam (tf.train.adam(learningRate), betas 0.9 and 0.999, the backend's epsilon) with the same state
 * and the same float32 arithmetic, one kernel per variable a call updates. Moments are keyed by variable
 * name; the beta powers advance once per call, as tfjs's do.
 */
export class FusedAdam implements StepOptimizer {
  private readonly moments = new Map<string, tf.Tensor1D>();
  private accBeta1: number;
  private accBeta2: number;
  private readonly epsilon: number;

  constructor(
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    epsilon?: number,
  ) {
    this.epsilon = epsilon ?? tf.backend().epsilon();
    this.accBeta1 = Math.fround(beta1);
    this.accBeta2 = Math.fround(beta2);
  }

  applyGradients(gradients: { name: string; tensor: tf.Tensor }[]): void {
    registerAdamKernel();
    const scalars: AdamScalars = {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      accBeta1: this.accBeta1,
      accBeta2: this.accBeta2,
    };
    for (const { name, tensor } of gradients) {
      const variable = tf.engine().registeredVariables[name];
      const moments = this.moments.get(name) ?? tf.keep(tf.zeros([2 * variable.size]));
      const [nextX, nextMoments] = tf
        .engine()
        .runKernel(ADAM_KERNEL, { x: variable, moments, gradient: tensor }, { ...scalars }) as tf.Tensor[];
      variable.assign(nextX);
      nextX.dispose();
      moments.dispose();
      this.moments.set(name, tf.keep(nextMoments as tf.Tensor1D));
    }
    ({ accBeta1: this.accBeta1, accBeta2: this.accBeta2 } = nextBetaPowers(scalars));
  }

  dispose(): void {
    tf.dispose([...this.moments.values()]);
    this.moments.clear();
  }
}

/** The optimiser of a training step: FusedAdam when `fused` and its kernel serves, else tf.train.adam. */
export function stepOptimizer(learningRate: number, fused: boolean): StepOptimizer {
  return fused && adamKernelServes() ? new FusedAdam(learningRate) : tf.train.adam(learningRate);
}
