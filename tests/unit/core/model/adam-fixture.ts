import * as tf from '@tensorflow/tfjs';
import type { StepOptimizer } from '../../../../src/core/model/adam-kernel';
import { createRng } from '../../../../src/core/random';

/*
 * A fixed run of Adam steps on two variables, shared by the unit test (adam-kernel.test.ts) and the WebGPU
 * agreement script (tests/webgpu/adam-agreement.ts).
 */

/** Seeded values of n float32s spread over [-scale, scale). */
function seeded(n: number, seed: number, scale: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => scale * 2 * (rng.next() - 0.5));
}

/**
 * Two variables ([4, 37] and [9]) updated together by `optimizer` over `steps` steps of seeded gradients
 * (some steps update only the first, so the beta powers must advance per call, not per variable); their
 * values after each step, flattened.
 */
export async function adamTrajectory(
  optimizer: StepOptimizer,
  tag: string,
  steps: number,
): Promise<number[][]> {
  const [a, b] = tf.tidy(() => [
    tf.variable(tf.tensor2d(seeded(148, 1, 1), [4, 37]), true, `adam-a-${tag}`),
    tf.variable(tf.tensor1d(seeded(9, 2, 3)), true, `adam-b-${tag}`),
  ]);
  const values: number[][] = [];
  for (let step = 0; step < steps; step++) {
    // Gradients from 1e-4 to 1e2 in size: the moments' and the corrections' roundings both show.
    const ga = tf.tensor2d(seeded(148, 10 + step, 10 ** ((step % 7) - 4)), [4, 37]);
    const gb = tf.tensor1d(seeded(9, 50 + step, 1));
    const list = [{ name: a.name, tensor: ga as tf.Tensor }];
    if (step % 3 !== 1) list.push({ name: b.name, tensor: gb });
    optimizer.applyGradients(list);
    values.push([...(await a.data()), ...(await b.data())]);
    tf.dispose([ga, gb]);
  }
  optimizer.dispose();
  tf.dispose([a, b]);
  return values;
}

/** The two variables' values before the first step, flattened as adamTrajectory's. */
export function adamStart(): number[] {
  return [...seeded(148, 1, 1), ...seeded(9, 2, 3)];
}

/** The largest disagreement of two trajectories' moves from `start`, relative to the largest move. */
export function moveDisagreement(ours: number[][], theirs: number[][], start: number[]): number {
  let worst = 0;
  let scale = 0;
  theirs.forEach((values, step) =>
    values.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(ours[step][i] - v));
      scale = Math.max(scale, Math.abs(v - start[i]));
    }),
  );
  return worst / scale;
}
