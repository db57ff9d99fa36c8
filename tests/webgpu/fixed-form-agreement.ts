import {
  COMBINATIONS,
  disagreement,
  fixedFormFixture,
  switchLabel,
} from '../unit/core/model/fixed-form-fixture';
import { runAgreement } from './agreement';

/*
 * The fused fixed-form kernels on WebGPU in Node (Dawn) against autodiff and forward, the unit test's
 * comparison (tests/unit/core/model/fixed-form-kernel.test.ts) on blocks of 300 genes (more than the
 * program's 256 threads). Prints each combination's relative disagreements and exits 1 past 1e-5. Run with a
 * Vulkan driver (docs/DESIGN.md §9), e.g. on a CPU-only machine:
 *   LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
 *     XDG_RUNTIME_DIR=/tmp/xdg npx tsx tests/webgpu/fixed-form-agreement.ts
 */

runAgreement(async () => {
  const { bothWays } = fixedFormFixture(600, 300);
  let worst = 0;
  for (const [i, switches] of COMBINATIONS.entries()) {
    const error = disagreement(await bothWays(switches, 1, i + 1));
    const all = [error.loss, ...error.gradient, error.predictions];
    worst = Math.max(worst, ...all.map((e) => (Number.isNaN(e) ? Infinity : e)));
    const gradient = error.gradient.map((e) => e.toExponential(1)).join(' ');
    console.log(
      `${switchLabel(switches)}: loss ${error.loss.toExponential(1)}, gradient rows ${gradient}, predictions ${error.predictions.toExponential(1)}`,
    );
  }
  return worst;
});
