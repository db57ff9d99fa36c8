import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/cli/backend';

/** The agreement scripts' tolerance: the largest relative disagreement allowed. */
export const TOLERANCE = 1e-5;

/**
 * Runs an agreement check on WebGPU in Node (Dawn): prints the adapter, runs `check` (which prints its rows
 * and returns the largest disagreement; NaN counts as infinite), then the largest and the tensors leaked,
 * and exits 1 past TOLERANCE or on a leak (Dawn keeps the event loop alive: the exit is explicit).
 */
export function runAgreement(check: () => Promise<number>): void {
  const run = async (): Promise<number> => {
    const { adapter } = await useBackend('webgpu');
    console.log(`adapter: ${adapter}`);
    const before = tf.memory().numTensors;
    const found = await check();
    const worst = Number.isNaN(found) ? Infinity : found;
    const leaked = tf.memory().numTensors - before;
    console.log(`largest: ${worst.toExponential(1)} (tolerance ${TOLERANCE}); tensors leaked: ${leaked}`);
    return worst <= TOLERANCE && leaked === 0 ? 0 : 1;
  };
  run().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
