import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/cli/backend';
import { createRng } from '../../src/core/random';
import {
  createTransferParameters,
  disposeTransferInputs,
  meanSquaredError,
  transferForward,
  type TransferInputs,
} from '../../src/core/model/transfer';
import { transferLossAndGradients } from '../../src/core/model/transfer-kernel';

/*
 * Milliseconds per transfer-path step (loss and gradient, read back), fused kernel against autodiff, on one
 * demo-sized episode of random inputs (Q 256, S 30, K 5, F 1000, G 1000, every switch on), per backend given
 * on the command line (default cpu wasm). Each way runs 3 warm-up steps, then 10 timed ones.
 *   npx tsx tests/perf/transfer-step.ts wasm cpu
 */

const [Q, S, K, F, G] = [256, 30, 5, 1000, 1000];
const SWITCHES = { deviations: true, context: true, mix: true, linear: true };

async function main(): Promise<void> {
  for (const backend of process.argv.length > 2 ? process.argv.slice(2) : ['cpu', 'wasm']) {
    await useBackend(backend);
    const rng = createRng(1);
    const random = (n: number) => Float32Array.from({ length: n }, () => rng.next() - 0.5);
    const params = createTransferParameters(F, G);
    const inputs: TransferInputs = {
      devQuery: tf.tensor3d(random(Q * K * F), [Q, K, F]),
      devSupport: tf.tensor3d(random(S * K * F), [S, K, F]),
      meanQuery: tf.tensor2d(random(Q * F), [Q, F]),
      meanSupport: tf.tensor2d(random(S * F), [S, F]),
      residual: tf.tensor2d(random(S * G), [S, G]),
      mix: tf.tensor2d(random(Q * G), [Q, G]),
      supportInverse: tf.tensor2d(random(S * S), [S, S]),
    };
    const target = tf.tensor2d(random(Q * G), [Q, G]);
    const ways: Record<string, () => Promise<void>> = {
      fused: async () => {
        const { loss, gradient } = transferLossAndGradients(params, SWITCHES, inputs, target);
        await gradient.data();
        tf.dispose([loss, gradient]);
      },
      autodiff: async () => {
        const loss = () => meanSquaredError(transferForward(params, SWITCHES, inputs), target);
        const { value, grads } = tf.variableGrads(loss, [params.packed]);
        await grads[params.packed.name].data();
        tf.dispose([value, ...Object.values(grads)]);
      },
    };
    for (const [way, step] of Object.entries(ways)) {
      for (let i = 0; i < 3; i++) await step();
      const start = performance.now();
      for (let i = 0; i < 10; i++) await step();
      console.log(`${backend} ${way}: ${((performance.now() - start) / 10).toFixed(1)} ms/step`);
    }
    disposeTransferInputs(inputs);
    tf.dispose([target, params.packed]);
  }
}

void main();
