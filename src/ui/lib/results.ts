/** Pure derivations of the result views: best values, verdict, rankings, top genes, ETA, CSV. */
import type { EpochLog, EvaluationView, PredictionView, SweepPoint } from '../../worker/api-types';
import type { Method } from '../../core/eval/methods';
import type { Metric, MetricValues } from '../../core/eval/metric-info';
import { METHOD_INFO, METHODS } from '../../core/eval/methods';
import { isBetter, METRICS } from '../../core/eval/metric-info';
import { meanInterval, type MeanInterval } from '../../core/eval/stats';
import { bestBaseline } from '../../core/eval/best-baseline';
import { formatNumber } from './format';
import { plural } from '../../core/text';

/** Per metric, the method with the best finite value (METRIC_INFO's direction); null if none. */
export function bestPerMetric(metrics: Record<Method, MetricValues>): Record<Metric, Method | null> {
  const out = {} as Record<Metric, Method | null>;
  for (const metric of METRICS) {
    let best: Method | null = null;
    for (const method of METHODS) {
      const v = metrics[method][metric];
      if (!Number.isFinite(v)) continue;
      if (best === null || isBetter(metric, v, metrics[best][metric])) best = method;
    }
    out[metric] = best;
  }
  return out;
}

export type VerdictKind = 'better' | 'worse' | 'unclear';

/** Coverage of the verdict's interval. */
export const VERDICT_LEVEL = 0.95;

export interface Verdict {
  kind: VerdictKind;
  text: string;
  /**
   * Per held-out pair, C3TL's centred Pearson minus the best other method's: mean, t-interval (NaN ends with
   * fewer than two pairs) and the number of pairs with both values finite.
   */
  difference: MeanInterval;
}

const signed = (v: number): string => `${v > 0 ? '+' : ''}${formatNumber(v)}`;

/**
 * A plain-language answer: is C3TL better than the best other method on centred Pearson for these held-out
 * pairs? Paired by pair: "better" when the 95% t-interval of the mean difference lies above 0, "worse" when
 * below, "unclear" (no clear difference) otherwise or when there are too few pairs to tell.
 */
export function verdict(
  view: Pick<EvaluationView, 'metrics' | 'perPair' | 'bestBaseline' | 'query' | 'context'>,
): Verdict {
  const other = view.bestBaseline;
  const ours = view.metrics.c3tl.pearson_centered;
  const theirs = view.metrics[other].pearson_centered;
  const name = METHOD_INFO[other].label;
  const pairs = `${view.query} held-out perturbations in ${view.context}`;
  const diffs = view.perPair.c3tl.map(
    (row, i) => row.pearson_centered - (view.perPair[other][i]?.pearson_centered ?? Number.NaN),
  );
  const difference = meanInterval(diffs, { level: VERDICT_LEVEL });
  if (difference.n < 2 || !Number.isFinite(difference.lo) || !Number.isFinite(difference.hi)) {
    return {
      kind: 'unclear',
      difference,
      text: `No verdict: a paired interval needs centred Pearson on at least two of the ${pairs}.`,
    };
  }
  const numbers =
    `centred Pearson ${formatNumber(ours)} vs ${formatNumber(theirs)}; per perturbation C3TL − ${name} ` +
    `${signed(difference.mean)}, ${Math.round(VERDICT_LEVEL * 100)}% interval [${signed(difference.lo)}, ${signed(difference.hi)}]`;
  if (difference.lo > 0) {
    return {
      kind: 'better',
      difference,
      text: `C3TL is better than the best other method (${name}) on the ${pairs}: ${numbers}.`,
    };
  }
  if (difference.hi < 0) {
    return {
      kind: 'worse',
      difference,
      text: `C3TL is worse than the best other method (${name}) on the ${pairs}: ${numbers}. Prefer ${name} for this context.`,
    };
  }
  return {
    kind: 'unclear',
    difference,
    text: `No clear difference between C3TL and the best other method (${name}) on the ${pairs}: ${numbers} includes 0. The simpler method is as good here.`,
  };
}

export interface RankedPair {
  /** Index into queryPerturbations. */
  index: number;
  name: string;
  c3tl: number;
  baseline: number;
}

/** Query perturbations sorted by C3TL's centred Pearson, best first; NaN last. */
export function rankPairs(
  view: Pick<EvaluationView, 'perPair' | 'queryPerturbations' | 'bestBaseline'>,
): RankedPair[] {
  const rows = view.queryPerturbations.map((name, index) => ({
    index,
    name,
    c3tl: view.perPair.c3tl[index]?.pearson_centered ?? Number.NaN,
    baseline: view.perPair[view.bestBaseline][index]?.pearson_centered ?? Number.NaN,
  }));
  const key = (v: number): number => (Number.isFinite(v) ? v : Number.NEGATIVE_INFINITY);
  return rows.sort((a, b) => key(b.c3tl) - key(a.c3tl) || a.index - b.index);
}

/** Indices of the k genes whose observed effect varies most across the Q query rows (rows are Q x G). */
export function topVariableGenes(values: Float32Array, rows: number, genes: number, k: number): number[] {
  const variance = new Float64Array(genes);
  for (let g = 0; g < genes; g++) {
    let sum = 0;
    let sq = 0;
    for (let q = 0; q < rows; q++) {
      const v = values[q * genes + g];
      sum += v;
      sq += v * v;
    }
    const mean = rows > 0 ? sum / rows : 0;
    variance[g] = rows > 0 ? sq / rows - mean * mean : 0;
  }
  return Array.from({ length: genes }, (_, g) => g)
    .sort((a, b) => variance[b] - variance[a] || a - b)
    .slice(0, Math.min(k, genes));
}

/** Indices of the k rows with the largest L2 norm (the strongest perturbations), in that order. */
export function strongestRows(values: Float32Array, rows: number, genes: number, k: number): number[] {
  const norm = new Float64Array(rows);
  for (let q = 0; q < rows; q++) {
    let s = 0;
    for (let g = 0; g < genes; g++) s += values[q * genes + g] ** 2;
    norm[q] = s;
  }
  return Array.from({ length: rows }, (_, q) => q)
    .sort((a, b) => norm[b] - norm[a] || a - b)
    .slice(0, Math.min(k, rows));
}

/** The k genes with the largest |effect| in row q of a Q x G matrix, strongest first. */
export function topGenesOfRow(values: Float32Array, q: number, genes: number, k: number): number[] {
  const start = q * genes;
  return Array.from({ length: genes }, (_, g) => g)
    .sort((a, b) => Math.abs(values[start + b]) - Math.abs(values[start + a]) || a - b)
    .slice(0, Math.min(k, genes));
}

/** The 98th percentile of |v|, so that a few extreme cells do not wash out the rest (they saturate). */
export function robustLimit(values: number[]): number {
  const abs = values
    .map(Math.abs)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (abs.length === 0) return 1;
  return abs[Math.min(abs.length - 1, Math.floor(0.98 * abs.length))] || abs[abs.length - 1] || 1;
}

/** Upper bound of the remaining training time (early stopping usually ends sooner), in seconds. */
export function etaSeconds(log: EpochLog): number {
  if (log.epoch <= 0) return Number.NaN;
  return (log.elapsedSeconds / log.epoch) * Math.max(0, log.maxEpochs - log.epoch);
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Wide CSV (context, perturbation, one column per gene) of C3TL's predictions, readable by the app again. */
export function predictionsCsv(view: PredictionView): string {
  const G = view.genes.length;
  const lines = [['context', 'perturbation', ...view.genes].map(csvField).join(',')];
  view.perturbations.forEach((name, q) => {
    const row = [csvField(view.context), csvField(name)];
    for (let g = 0; g < G; g++) row.push(String(view.predictions[q * G + g]));
    lines.push(row.join(','));
  });
  return `${lines.join('\n')}\n`;
}

export interface SweepSeries {
  support: number[];
  fraction: number[];
  c3tl: number[];
  baseline: number[];
  baselineName: string[];
}

/** Per sweep point: C3TL's centred Pearson and that of the best baseline at that point. */
export function sweepSeries(points: readonly SweepPoint[]): SweepSeries {
  const sorted = [...points].sort((a, b) => a.support - b.support || a.fraction - b.fraction);
  return {
    support: sorted.map((p) => p.support),
    fraction: sorted.map((p) => p.fraction),
    c3tl: sorted.map((p) => p.metrics.c3tl.pearson_centered),
    baseline: sorted.map((p) => p.metrics[bestBaseline(p.metrics)].pearson_centered),
    baselineName: sorted.map((p) => METHOD_INFO[bestBaseline(p.metrics)].label),
  };
}

/**
 * The held genes in words (src/core/model/held-genes.ts): how many genes showed the same effect on every
 * support perturbation and what the model did with them; undefined when none (or not counted).
 */
export function heldGenesText(count: number | undefined): string | undefined {
  if (!count) return undefined;
  return (
    `${plural(count, 'gene')} ${count === 1 ? 'has' : 'have'} the same effect on every support perturbation ` +
    '(typically a gene this context does not express): C3TL and calibrated predict that value for every ' +
    'held-out perturbation, whatever the other contexts show.'
  );
}

/**
 * The fixed form's choice of means in words (src/core/model/sparse-base.ts), or undefined when it read the
 * observed effects (or the session predates the choice).
 */
export function sparseBaseText(sparseBase: boolean | undefined): string | undefined {
  if (!sparseBase) return undefined;
  return (
    "The fixed form denoised each perturbation's mean over the other contexts as sparse (most " +
    'perturbations move few genes; a value within its gene’s noise around no effect is read as none), which ' +
    'the judged pairs preferred to the raw means.'
  );
}

/**
 * The fixed form the transfer path sits on in words (transfer-train.ts), or undefined when it sits on the
 * whole fixed form (or the session predates the choice).
 */
export function slopeFreeText(withoutSlope: boolean | undefined): string | undefined {
  if (!withoutSlope) return undefined;
  return (
    "C3TL adds its transfer to the fixed form without the support slope (each gene's amplification of the " +
    'known effects, fitted on the support) and fits that slope again on what the mix of other contexts ' +
    'leaves: the held-out pairs did not show the slope fitted first to be better. Calibrated keeps the slope.'
  );
}

/** Most reference contexts the mix sentence names (by the size of their weight); the rest are counted. */
const MIX_NAMED = 5;

/**
 * The transfer path's reference mix in words: the target as a combination of its reference contexts, fitted
 * on its support, largest weights first; undefined without a mix.
 */
export function referenceMixText(
  mix: { context: string; weight: number }[] | undefined,
  sparse = false,
): string | undefined {
  if (!mix || mix.length === 0) return undefined;
  const ranked = [...mix].sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
  const named = ranked
    .slice(0, MIX_NAMED)
    .map((m) => `${m.context} ${m.weight < 0 ? '−' : '+'}${Math.abs(m.weight).toFixed(2)}`);
  const rest = ranked.length - named.length;
  return (
    'On its support the target deviates from the mean like this mix of the other contexts: ' +
    named.join(', ') +
    (rest > 0 ? `, and ${rest} more` : '') +
    ". C3TL carries each perturbation's deviations in those contexts over in these proportions " +
    '(0 everywhere: the target is like none of them in particular)' +
    (sparse
      ? ", reading each context's effects denoised as sparse (most perturbations move few genes; noise " +
        'around no effect is set to none), which the judged pairs preferred to the raw effects.'
      : '.')
  );
}
