/*
 * One Adam update as tfjs 4's AdamOptimizer.applyGradients computes it in float32 (adam_optimizer.js): each
 * of its ops rounds to float32, so each line here rounds with Math.fround in the same order (for +, -, *, /
 * and sqrt of float32 values, rounding the double result gives the float32 result). Pure maths, no imports:
 * the cpu and wasm kernels (adam-kernel.ts) run it on the tensors' arrays.
 */

const f = Math.fround;

/** The step's scalars: tfjs's hyper-parameters and its accumulated beta powers before this step. */
export interface AdamScalars {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** beta1^t as tfjs accumulates it in a float32 scalar (beta1 at the first step). */
  accBeta1: number;
  /** beta2^t likewise. */
  accBeta2: number;
}

/** The accumulated beta powers after a step: each multiplied by its beta in float32, as tfjs does. */
export function nextBetaPowers(s: AdamScalars): { accBeta1: number; accBeta2: number } {
  return { accBeta1: f(s.accBeta1 * f(s.beta1)), accBeta2: f(s.accBeta2 * f(s.beta2)) };
}

/**
 * The float32 constants of a step, in the order the WGSL program (adam-webgpu.ts) takes them as uniforms:
 * beta1, 1 - beta1, beta2, 1 - beta2, 1 - beta1^t, 1 - beta2^t, epsilon, -learningRate.
 */
export function adamConstants(s: AdamScalars): number[] {
  return [
    f(s.beta1),
    f(1 - s.beta1),
    f(s.beta2),
    f(1 - s.beta2),
    f(1 - s.accBeta1),
    f(1 - s.accBeta2),
    f(s.epsilon),
    f(-s.learningRate),
  ];
}

/**
 * One Adam update of N values. `x` the variable [N], `moments` [2N] (first moments then second), `gradient`
 * [N]; writes the new variable to `nextX` [N] and the new moments to `nextMoments` [2N] (may alias nothing
 * read).
 */
export function adamUpdate(
  x: Float32Array,
  moments: Float32Array,
  gradient: Float32Array,
  s: AdamScalars,
  nextX: Float32Array,
  nextMoments: Float32Array,
): void {
  const [b1, oneMinusB1, b2, oneMinusB2, correction1, correction2, epsilon, step] = adamConstants(s);
  const N = x.length;
  for (let i = 0; i < N; i++) {
    const g = gradient[i];
    const m = f(f(moments[i] * b1) + f(g * oneMinusB1));
    const v = f(f(moments[N + i] * b2) + f(f(g * g) * oneMinusB2));
    nextMoments[i] = m;
    nextMoments[N + i] = v;
    const denominator = f(f(Math.sqrt(f(v / correction2))) + epsilon);
    nextX[i] = f(f(f(f(m / correction1) / denominator) * step) + x[i]);
  }
}
