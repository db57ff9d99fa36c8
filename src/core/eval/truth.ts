/**
 * Scores against the simulator's noise-free effects: how far measurement noise alone keeps the observations
 * from the truth (the noise ceiling), and how close each method comes to the truth itself.
 */
import type { EffectTensor } from '../data/tensor';
import { computeMetrics } from './metrics';
import { METHODS, type Method } from './methods';
import type { MetricValues } from './metric-info';

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
 * each prediction are Q*G row-major by pair; contextMean (length G) is the m_t every method was scored with,
 * used for the centring on both sides. The ceiling is an estimate: log fold changes of sampled counts are
 * biased, so a method can score slightly above it; nothing is clipped.
 */
export function truthScores(input: {
  observed: Float32Array;
  truth: Float32Array;
  predictions: Record<Method, Float32Array>;
  contextMean: ArrayLike<number>;
  queryCount: number;
  geneCount: number;
}): TruthScores {
  const { observed, truth, contextMean, queryCount, geneCount } = input;
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
