import {
  relativeError,
  TRANSFER_COMBINATIONS,
  transferFixture,
  transferLabel,
} from '../unit/core/model/transfer-fixture';
import { runAgreement } from './agreement';

/*
 * The fused transfer kernels on WebGPU in Node (Dawn) against autodiff and transferForward, the unit test's
 * comparison (tests/unit/core/model/transfer-kernel.test.ts) on every switch combination at S = 1, 2 and 6,
 * 70 queries, 200 genes, 64 feature genes. Prints each combination's largest relative disagreement per
 * weight and exits 1 past 1e-5. Run with a Vulkan driver (docs/DESIGN.md §9), e.g. on a CPU-only machine:
 *   LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
 *     XDG_RUNTIME_DIR=/tmp/xdg npx tsx tests/webgpu/transfer-agreement.ts
 */

runAgreement(async () => {
  const { bothWays, blocks } = transferFixture(90, 200, 64);
  let worst = 0;
  for (const switches of TRANSFER_COMBINATIONS) {
    const parts: string[] = [];
    for (const [supportSize, seed] of [
      [1, 3],
      [2, 5],
      [6, 8],
    ]) {
      const out = await bothWays(switches, supportSize, seed, 70);
      const errors = [
        Math.abs(out.loss[0] - out.loss[1]) / out.loss[1],
        relativeError(out.predictions[0], out.predictions[1]),
        ...blocks.map(([, start, end]) =>
          relativeError(out.gradient[0].subarray(start, end), out.gradient[1].subarray(start, end)),
        ),
      ];
      worst = Math.max(worst, ...errors.map((e) => (Number.isNaN(e) ? Infinity : e)));
      parts.push(`S=${supportSize} ${errors.map((e) => e.toExponential(1)).join(' ')}`);
    }
    console.log(`${transferLabel(switches)}: ${parts.join('; ')}`);
  }
  console.log('columns: loss, predictions, gradient of devWeight, meanWeight, gain, logits, context');
  return worst;
});
