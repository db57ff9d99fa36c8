import type { EffectTensor } from '../data/tensor';

export interface BaselineInput {
  tensor: EffectTensor;
  /** Context index t of the target. */
  target: number;
  /** Perturbation indices measured in t and in at least one other context, used as support (train + validation). */
  support: number[];
  /** Perturbation indices to predict in t (may be unobserved in t); their values in t are never read. */
  query: number[];
}

/**
 * What every baseline reads for one target (docs/DESIGN.md §3), computed once: perturbation means without
 * the target pm (P*G), the support mean m_t (G) and the additive shift m_t - mean over the support of pm_s
 * (G), with the inputs checked.
 */
export interface BaselineContext extends BaselineInput {
  pm: Float32Array;
  mt: Float32Array;
  shift: Float64Array;
}

function checkIndex(kind: string, i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n)
    throw new Error(`${kind} index ${i} is out of range [0, ${n}).`);
}

/**
 * perturb_mean for every perturbation p: the mean of y_cp over the contexts c != excludeContext where (c, p)
 * was measured. means: P*G row-major by perturbation (a row of 0 where p is measured nowhere else);
 * counts: length P, how many contexts were averaged.
 */
export function perturbationMeans(
  tensor: EffectTensor,
  excludeContext: number,
): { means: Float32Array; counts: Uint16Array } {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const means = new Float32Array(P * G);
  const counts = new Uint16Array(P);
  const acc = new Float64Array(G);
  for (let p = 0; p < P; p++) {
    acc.fill(0);
    let n = 0;
    for (let c = 0; c < C; c++) {
      if (c === excludeContext || !tensor.observed[c * P + p]) continue;
      const off = (c * P + p) * G;
      for (let g = 0; g < G; g++) acc[g] += tensor.values[off + g];
      n++;
    }
    counts[p] = n;
    if (n > 0) for (let g = 0; g < G; g++) means[p * G + g] = acc[g] / n;
  }
  return { means, counts };
}

/** m_t: the mean effect over the support perturbations in target context t (length G). Throws on an empty
 *  support or on a support perturbation not measured in t. */
export function contextMean(tensor: EffectTensor, target: number, support: readonly number[]): Float32Array {
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  checkIndex('Context', target, tensor.contexts.length);
  if (support.length === 0) throw new Error('contextMean: the support is empty.');
  const acc = new Float64Array(G);
  for (const s of support) {
    checkIndex('Perturbation', s, P);
    if (!tensor.observed[target * P + s]) {
      throw new Error(
        `Support perturbation "${tensor.perturbations[s]}" is not measured in context "${tensor.contexts[target]}".`,
      );
    }
    const off = (target * P + s) * G;
    for (let g = 0; g < G; g++) acc[g] += tensor.values[off + g];
  }
  const out = new Float32Array(G);
  for (let g = 0; g < G; g++) out[g] = acc[g] / support.length;
  return out;
}

/**
 * The shared inputs of the baselines for one target. Throws when an index is out of range, the support is
 * empty or a support perturbation is not measured both in t and elsewhere.
 */
export function baselineContext(input: BaselineInput): BaselineContext {
  const { tensor, target, support, query } = input;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  checkIndex('Context', target, tensor.contexts.length);
  for (const q of query) checkIndex('Perturbation', q, P);
  const { means: pm, counts } = perturbationMeans(tensor, target);
  const mt = contextMean(tensor, target, support);
  for (const s of support) {
    if (counts[s] === 0) {
      throw new Error(
        `Support perturbation "${tensor.perturbations[s]}" is measured in no context other than "${tensor.contexts[target]}".`,
      );
    }
  }
  // shift = m_t − mean_s pm_s: how the target moves every perturbation, estimated on the support.
  const shift = new Float64Array(G);
  for (const s of support) for (let g = 0; g < G; g++) shift[g] += pm[s * G + g];
  for (let g = 0; g < G; g++) shift[g] = mt[g] - shift[g] / support.length;
  return { ...input, pm, mt, shift };
}

/** out[q*G + g] = row(q)[g] for each query perturbation, Q*G row-major. */
export function queryRows(ctx: BaselineContext, row: (p: number, g: number) => number): Float32Array {
  const G = ctx.tensor.genes.length;
  const out = new Float32Array(ctx.query.length * G);
  ctx.query.forEach((p, qi) => {
    for (let g = 0; g < G; g++) out[qi * G + g] = row(p, g);
  });
  return out;
}
