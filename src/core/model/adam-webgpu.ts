import type * as tf from '@tensorflow/tfjs';
import { adamConstants, type AdamScalars } from './adam-maths';

/*
 * The fused Adam kernel on WebGPU (adam-kernel.ts): adam-maths.ts's update in two dispatches, the new moments
 * [2N] and then the new variable [N] from them (a tfjs program writes one output buffer, and the variable and
 * its moments are separate tensors). The step's scalars are uniforms, so a new step compiles nothing.
 */

const WORKGROUP = 64;

interface WebGpuBackend {
  runWebGPUProgram(
    program: AdamProgram,
    inputs: tf.TensorInfo[],
    dtype: 'float32',
    uniforms: { type: 'int32' | 'float32'; data: number[] }[],
  ): tf.TensorInfo;
}

const BODIES = {
  moments: `
  let N = uniforms.threads / 2;
  let i = index % N;
  let g = grad[i];
  if (index < N) {
    result[index] = moments[index] * uniforms.b1 + g * uniforms.oneMinusB1;
  } else {
    result[index] = moments[index] * uniforms.b2 + (g * g) * uniforms.oneMinusB2;
  }`,
  variable: `
  let m = updated[index];
  let v = updated[uniforms.threads + index];
  let denominator = sqrt(v / uniforms.correction2) + uniforms.epsilon;
  result[index] = ((m / uniforms.correction1) / denominator) * uniforms.step + weights[index];`,
};

class AdamProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  uniforms =
    'threads : i32, b1 : f32, oneMinusB1 : f32, b2 : f32, oneMinusB2 : f32, correction1 : f32, correction2 : f32, epsilon : f32, step : f32,';

  constructor(
    readonly variableNames: string[],
    threads: number,
    readonly part: keyof typeof BODIES,
  ) {
    this.outputShape = [threads];
    this.dispatch = [Math.ceil(threads / WORKGROUP), 1, 1];
    this.shaderKey = `c3tlAdam_${part}`;
  }

  getUserCode(): string {
    return `
fn main(index: i32) {
  ${this.variableNames.map((name) => `_ = arrayLength(&${name});`).join(' ')}
  if (index >= uniforms.threads) { return; }
  ${BODIES[this.part]}
}`;
  }
}

/** A flat view of a tensor's buffer (programs bind buffers by dataId). */
function flat(info: tf.TensorInfo): tf.TensorInfo {
  return { dataId: info.dataId, dtype: info.dtype, shape: [info.shape.reduce((a, b) => a * b, 1)] };
}

/** The fused Adam kernel's body on backend 'webgpu': [new variable (x's shape), new moments [2N]]. */
export function adamWebGpu(
  inputs: { x: tf.TensorInfo; moments: tf.TensorInfo; gradient: tf.TensorInfo },
  scalars: AdamScalars,
  backend: unknown,
): tf.TensorInfo[] {
  const gpu = backend as WebGpuBackend;
  const N = inputs.x.shape.reduce((a, b) => a * b, 1);
  const constants = adamConstants(scalars).map((v) => ({ type: 'float32' as const, data: [v] }));
  const moments = gpu.runWebGPUProgram(
    new AdamProgram(['moments', 'grad'], 2 * N, 'moments'),
    [flat(inputs.moments), flat(inputs.gradient)],
    'float32',
    [{ type: 'int32', data: [2 * N] }, ...constants],
  );
  const x = gpu.runWebGPUProgram(
    new AdamProgram(['updated', 'weights'], N, 'variable'),
    [moments, flat(inputs.x)],
    'float32',
    [{ type: 'int32', data: [N] }, ...constants],
  );
  return [{ dataId: x.dataId, dtype: 'float32', shape: inputs.x.shape }, moments];
}
