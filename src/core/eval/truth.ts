/**
 * Scores against the simulator's noise-free effects: how far measurement noise alone keeps the observations
 * from the truth (the noise ceiling), and how close each method comes to the truth itself.
 *
 * Every effect of a context is measured against one control sample, so the control's noise is a per-gene
 * offset shared by all the context's observed effects. A method reads it from the support (it is in the
 * support mean m_t); the truth does not contain it. The truth is therefore scored after adding the offset
 * measured on the support pairs (m_t minus the truth's mean over the same pairs): centred at m_t, the truth
 * side is then the truth centred at its own support mean, and what separates it from the observations is
 * the noise of each pair alone.
 */
import type { EffectTensor } from '../data/tensor';
import { computeMetrics } from './metrics';
import { METHODS, type Method } from './methods';
import type { MetricValues } from './metric-info';
import type { TargetEvaluation } from './results';

export interface TruthScores {
  /** The noise-free effects scored as a prediction of the noisy observations (same pairs, genes, m_t). */
  ceiling: MetricValues;
  ceilingPerPair: MetricValues[];
  /** Each method's predictions scored against the noise-free effects instead of the observations. */
  vsTruth: Record<Method, MetricValues>;
}

/**
 * The noise-free effects of the given pairs of one context on the given genes: Q*G, row-major by pair.
 * truth has the layout of tensor.values (C*P*G); genes and perturbations are names of the tensor's axes.
 */
export function truthRows(
  tensor: EffectTensor,
  truth: Float32Array,
  context: number,
  perturbations: readonly string[],
  genes: readonly string[],
): Float32Array {
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const pIndex = new Map(tensor.perturbations.map((name, i) => [name, i]));
  const gIndex = new Map(tensor.genes.map((name, i) => [name, i]));
  const at = (map: Map<string, number>, name: string, axis: string): number => {
    const i = map.get(name);
    if (i === undefined) throw new Error(`truthRows: ${axis} "${name}" is not in the simulated tensor.`);
    return i;
  };
  const columns = genes.map((g) => at(gIndex, g, 'gene'));
  const out = new Float32Array(perturbations.length * genes.length);
  perturbations.forEach((name, q) => {
    const offset = (context * P + at(pIndex, name, 'perturbation')) * G;
    for (let j = 0; j < columns.length; j++) out[q * genes.length + j] = truth[offset + columns[j]];
  });
  return out;
}

/**
 * The noise ceiling and every method against the truth, on Q held-out pairs x G genes. observed, truth and
 * each prediction are Q*G row-major by pair; contextMean (length G) is the m_t every method was scored with;
 * truthSupportMean (length G) is the truth's mean over the support pairs m_t was taken from. The truth is
 * scored with the context's shared measurement offset (contextMean - truthSupportMean) added, see above.
 * The ceiling is an estimate (log fold changes of sampled counts are biased, and the offset is measured on
 * the support): a method can score slightly above it; nothing is clipped.
 */
export function truthScores(input: {
  observed: Float32Array;
  truth: Float32Array;
  truthSupportMean: ArrayLike<number>;
  predictions: Record<Method, Float32Array>;
  contextMean: ArrayLike<number>;
  queryCount: number;
  geneCount: number;
}): TruthScores {
  const { observed, contextMean, truthSupportMean, queryCount, geneCount } = input;
  const truth = Float32Array.from(
    input.truth,
    (v, i) => v + contextMean[i % geneCount] - truthSupportMean[i % geneCount],
  );
  const ceiling = computeMetrics({ predicted: truth, observed, contextMean, queryCount, geneCount });
  const vsTruth = {} as Record<Method, MetricValues>;
  for (const method of METHODS) {
    vsTruth[method] = computeMetrics({
      predicted: input.predictions[method],
      observed: truth,
      contextMean,
      queryCount,
      geneCount,
    }).mean;
  }
  return { ceiling: ceiling.mean, ceilingPerPair: ceiling.perPair, vsTruth };
}

/** Mean over rows of a row-major N*G array: length G. */
function rowMean(rows: Float32Array, geneCount: number): Float64Array {
  const out = new Float64Array(geneCount);
  const n = rows.length / geneCount;
  for (let i = 0; i < rows.length; i++) out[i % geneCount] += rows[i] / n;
  return out;
}

/**
 * An evaluation of context `context` of a simulated tensor scored against its truth (layout of
 * tensor.values): the truth's rows of the held-out pairs (Q*G, the evaluation's genes) and truthScores.
 */
export function scoreAgainstTruth(
  tensor: EffectTensor,
  truth: Float32Array,
  context: number,
  evaluation: TargetEvaluation,
): TruthScores & { values: Float32Array } {
  const { genes } = evaluation;
  const values = truthRows(tensor, truth, context, evaluation.queryPerturbations, genes);
  const support = truthRows(tensor, truth, context, evaluation.supportPerturbations, genes);
  const scores = truthScores({
    observed: evaluation.observed,
    truth: values,
    truthSupportMean: rowMean(support, genes.length),
    predictions: evaluation.predictions,
    contextMean: evaluation.contextMean,
    queryCount: evaluation.query,
    geneCount: genes.length,
  });
  return { ...scores, values };
}
