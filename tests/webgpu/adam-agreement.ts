import * as tf from '@tensorflow/tfjs';
import { FusedAdam } from '../../src/core/model/adam-kernel';
import { adamStart, adamTrajectory, moveDisagreement } from '../unit/core/model/adam-fixture';
import { runAgreement } from './agreement';

/*
 * The fused Adam kernel on WebGPU in Node (Dawn) against tf.train.adam on WebGPU, the unit test's run
 * (tests/unit/core/model/adam-kernel.test.ts, exact on cpu and wasm): 8 steps on two variables. Prints the
 * largest disagreement of the variables' moves relative to the largest move, and exits 1 past 1e-5 (WGSL's
 * division and square root need not round correctly). Run with a Vulkan driver (docs/DESIGN.md §9), e.g.:
 *   LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
 *     XDG_RUNTIME_DIR=/tmp/xdg npx tsx tests/webgpu/adam-agreement.ts
 */

runAgreement(async () => {
  const reference = await adamTrajectory(tf.train.adam(0.01), 'reference', 8);
  const fused = await adamTrajectory(new FusedAdam(0.01), 'fused', 8);
  const error = moveDisagreement(fused, reference, adamStart());
  const exact = fused.every((values, step) => values.every((v, i) => v === reference[step][i]));
  console.log(`Adam, 8 steps: moves ${error.toExponential(1)}; bit-identical: ${exact}`);
  return error;
});
