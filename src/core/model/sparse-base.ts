import type { EffectTensor } from '../data/tensor';
import { centredPearson } from '../eval/metrics';
import { preferredOver, referenceChecks } from './transfer-judge';
import { sparsePosteriorMeans } from './sparse-maths';

/*
 * Whether the fixed form's perturbation means over the other contexts are denoised as sparse (docs/DESIGN.md
 * §2.1). Where most perturbations move few genes (knockdown screens, the simulator) the mean over a handful of
 * noisy contexts is mostly noise on the genes a perturbation leaves alone; where effects are dense (the drug
 * screens' z-scores) the same prior reads real effects as noise. So it is a choice per screen, made before
 * training on judged pairs by the rule of every such choice (preferredOver).
 */

/** One judged set: `context` plays the target with `support` and is scored on `queries` (perturbations). */
export interface JudgedSet {
  context: number;
  support: readonly number[];
  queries: readonly number[];
}

/**
 * Each pair's perturbation mean pm_p(-c) over the other contexts where p is readable (scaled units), C*P*G in
 * the tensor's layout (0 where no other context reads p); with `denoise`, each context's means replaced, gene
 * by gene, by their posterior means under a sparse prior fitted on that context's means over all perturbations
 * (sparse-maths.ts). The mean over several contexts is denoised rather than each context's effects: its noise
 * is smaller, so fewer real effects drown in it (measured on a toy screen with effects of 2 SD in one
 * context: denoising the contexts first lost 0.03 to 0.08 against the raw means, the mean first gained up to
 * 0.07).
 */
export function perturbationMeans(
  tensor: EffectTensor,
  mask: Uint8Array,
  scale: Float32Array,
  denoise: boolean,
): Float32Array {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const { values } = tensor;
  const out = new Float32Array(C * P * G);
  const block = new Float64Array(P * G);
  for (let c = 0; c < C; c++) {
    block.fill(0);
    for (let p = 0; p < P; p++) {
      let n = 0;
      for (let other = 0; other < C; other++) {
        if (other === c || !mask[other * P + p]) continue;
        const at = (other * P + p) * G;
        for (let g = 0; g < G; g++) block[p * G + g] += values[at + g] / scale[g];
        n++;
      }
      if (n > 0) for (let g = 0; g < G; g++) block[p * G + g] /= n;
    }
    out.set(denoise ? sparsePosteriorMeans(block, P, G) : block, c * P * G);
  }
  return out;
}

/**
 * Per query pair of every set in turn, the centred Pearson of the additive rule (the perturbation's mean over
 * the other contexts, plus the support's mean offset from it) against the observed effect, centred at the
 * support's mean. `means` (perturbationMeans) are the means to read; absent, the observed effects' means.
 */
export function additiveScores(
  tensor: EffectTensor,
  mask: Uint8Array,
  scale: Float32Array,
  sets: readonly JudgedSet[],
  means: Float32Array = perturbationMeans(tensor, mask, scale, false),
): number[] {
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const { values } = tensor;
  const meanOf = (context: number, p: number, out: Float64Array): void => {
    const at = (context * P + p) * G;
    for (let g = 0; g < G; g++) out[g] = means[at + g] * scale[g];
  };
  const scores: number[] = [];
  const m = new Float64Array(G);
  const predicted = new Float64Array(G);
  for (const { context, support, queries } of sets) {
    if (support.length === 0) continue;
    const offset = new Float64Array(G);
    const centre = new Float64Array(G);
    for (const s of support) {
      meanOf(context, s, m);
      const at = (context * P + s) * G;
      for (let g = 0; g < G; g++) {
        offset[g] += (values[at + g] - m[g]) / support.length;
        centre[g] += values[at + g] / support.length;
      }
    }
    for (const q of queries) {
      meanOf(context, q, m);
      for (let g = 0; g < G; g++) predicted[g] = m[g] + offset[g];
      const at = (context * P + q) * G;
      scores.push(centredPearson(predicted, values.subarray(at, at + G), centre));
    }
  }
  return scores;
}

/**
 * The sparse-denoised perturbation means the fixed form should read (perturbationMeans), or undefined when the
 * judged pairs do not prefer them to the observed effects' means (or there are too few pairs to judge).
 */
export function chooseSparseBase(
  tensor: EffectTensor,
  mask: Uint8Array,
  scale: Float32Array,
  sets: readonly JudgedSet[],
): Float32Array | undefined {
  const raw = additiveScores(tensor, mask, scale, sets);
  if (raw.length < 2) return undefined;
  const sparse = perturbationMeans(tensor, mask, scale, true);
  return preferredOver(additiveScores(tensor, mask, scale, sets, sparse), raw) !== undefined
    ? sparse
    : undefined;
}

/**
 * The sets the choice is judged on: the target's validation pairs (on its training support), the
 * pseudo-target's held-out pairs (on its support) and each other reference context playing the target once
 * (referenceChecks: a seeded support of the target's size). Perturbation indices; nothing here draws from the
 * training's random stream.
 */
export function baseJudgedSets(
  tensor: EffectTensor,
  mask: Uint8Array,
  plan: {
    target: number;
    supportTrain: readonly number[];
    supportVal: readonly number[];
    pseudo?: { context: number; support: readonly number[]; queries: readonly number[] };
    maxQueries: number;
    seed: number;
  },
): JudgedSet[] {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const sets: JudgedSet[] = [];
  if (plan.supportTrain.length > 0 && plan.supportVal.length > 0)
    sets.push({ context: plan.target, support: plan.supportTrain, queries: plan.supportVal });
  if (plan.pseudo) sets.push(plan.pseudo);
  const supportSize = Math.max(2, plan.supportTrain.length);
  const usable = Array.from({ length: C }, (_, c) => {
    const pairs: number[] = [];
    for (let p = 0; p < P; p++) if (mask[c * P + p]) pairs.push(p);
    return pairs;
  });
  const trainable = usable
    .map((_, c) => c)
    .filter((c) => c !== plan.target && usable[c].length >= supportSize + 2);
  const checks = referenceChecks(trainable, usable, {
    skip: plan.pseudo?.context,
    supportSize,
    maxQueries: plan.maxQueries,
    seed: plan.seed,
  });
  return [...sets, ...checks];
}
