/**
 * Science benchmark: leave-one-context-out evaluation of every method over datasets, support fractions and
 * seeds, summarised per (dataset, support) as mean and sd per method, and as paired differences of the
 * reference method (C3TL) against each other method over the same (target, seed) rows, with t-intervals.
 */
import type { EffectTensor } from '../data/tensor';
import { evaluate } from './protocol';
import { scoreAgainstTruth } from './truth';
import type { TargetEvaluation } from './results';
import type { ModelPreset, RunOptions, TrainInfo } from './types';
import { mean, meanInterval, sampleSd } from './stats';
import { METHODS, OTHER_METHODS, REFERENCE_METHOD, type Method, type OtherMethod } from './methods';
import { METRICS, type Metric, type MetricValues } from './metric-info';

/** The fast preset: fewer genes and epochs so a whole report reruns within about an hour on 2 cores. */
export const FAST_BENCHMARK = { geneLimit: 1000, maxEpochs: 20 } as const;
/** The full preset: the evaluate command's defaults (the model's own epoch cap). */
export const FULL_BENCHMARK = { geneLimit: 2000 } as const;

/** One evaluated (target, seed) of one dataset at one support fraction. */
export interface BenchmarkRow {
  target: string;
  seed: number;
  /** Support pairs (train + validation) and held-out query pairs of this split. */
  support: number;
  query: number;
  /** Mean over the query pairs, per method. */
  metrics: Record<Method, MetricValues>;
  /**
   * How C3TL's training went: the fixed form's epochs and best epoch, and the transfer path's (best epoch 0:
   * its starting rule was kept; scale: the multiple kept, 0 = the path off).
   */
  train?: Pick<TrainInfo, 'epochs' | 'bestEpoch' | 'seconds' | 'transfer' | 'sparseBase' | 'heldGenes'>;
  /** Simulated data only: scores against the noise-free effects of the same query pairs and genes. */
  truth?: {
    /** The truth scored as a prediction of the observations: what no method can beat except by chance. */
    ceiling: MetricValues;
    /** Each method's predictions scored against the truth instead of the observations. */
    vsTruth: Record<Method, MetricValues>;
  };
}

/** Mean of the paired differences (reference minus method) over rows and its t-interval. */
export interface PairedDifference {
  mean: number;
  /** Two-sided t-interval of the mean difference; NaN when fewer than two rows. */
  lo: number;
  hi: number;
  /** Rows with a finite difference. */
  n: number;
}

export interface RowSummary {
  /** Number of (target, seed) rows summarised. */
  rows: number;
  /** Per method and metric: mean over rows and sample standard deviation (NaN for one row). */
  methods: Record<Method, { mean: MetricValues; sd: MetricValues }>;
  /**
   * Per other method and metric: reference minus method per row, then mean and t-interval. Positive favours
   * the reference on correlations and overlaps, negative on the errors (mse, mae).
   */
  paired: Record<OtherMethod, Record<Metric, PairedDifference>>;
}

export interface SummaryOptions {
  /** Two-sided coverage of the paired intervals; default 0.95. */
  level?: number;
}

/**
 * Summary of (target, seed) rows: mean and sd per method and metric, and the paired differences of the
 * reference method against every other method with Student t intervals (n − 1 degrees of freedom).
 */
export function summariseRows(rows: readonly BenchmarkRow[], options: SummaryOptions = {}): RowSummary {
  const column = (method: Method, metric: Metric) => rows.map((r) => r.metrics[method][metric]);
  const methods = {} as RowSummary['methods'];
  for (const method of METHODS) {
    const m = {} as MetricValues;
    const sd = {} as MetricValues;
    for (const metric of METRICS) {
      m[metric] = mean(column(method, metric));
      sd[metric] = sampleSd(column(method, metric));
    }
    methods[method] = { mean: m, sd };
  }
  const paired = {} as RowSummary['paired'];
  for (const method of OTHER_METHODS) {
    const byMetric = {} as Record<Metric, PairedDifference>;
    for (const metric of METRICS) {
      const diffs = rows.map((r) => r.metrics[REFERENCE_METHOD][metric] - r.metrics[method][metric]);
      const { mean: d, lo, hi, n } = meanInterval(diffs, options);
      byMetric[metric] = { mean: d, lo, hi, n };
    }
    paired[method] = byMetric;
  }
  return { rows: rows.length, methods, paired };
}

/** Summary of the rows' scores against the truth (simulated data). */
export interface TruthSummary {
  /** The noise ceiling per metric: mean and sample sd over rows. */
  ceiling: { mean: MetricValues; sd: MetricValues };
  /** Every method against the truth: means, sds and the reference's paired differences, as for observations. */
  vsTruth: RowSummary;
}

/**
 * The ceiling and every method against the truth over rows that all carry truth scores; undefined when any
 * row does not (real data).
 */
export function summariseTruth(
  rows: readonly BenchmarkRow[],
  options: SummaryOptions = {},
): TruthSummary | undefined {
  const truths = rows.flatMap((r) => (r.truth ? [r.truth] : []));
  if (rows.length === 0 || truths.length < rows.length) return undefined;
  const means = {} as MetricValues;
  const sds = {} as MetricValues;
  for (const metric of METRICS) {
    const column = truths.map((t) => t.ceiling[metric]);
    means[metric] = mean(column);
    sds[metric] = sampleSd(column);
  }
  const scored = rows.map((r, i) => ({ ...r, metrics: truths[i].vsTruth }));
  return { ceiling: { mean: means, sd: sds }, vsTruth: summariseRows(scored, options) };
}

/** One seed's data: the effect tensor and, for simulated data, its noise-free effects (layout C*P*G). */
export interface BenchmarkDraw {
  tensor: EffectTensor;
  truth?: Float32Array;
}

/** A dataset of the benchmark. */
export interface BenchmarkDataset {
  /** As the user named it (a path list, or a sim:<kind> token). */
  name: string;
  /** True when each seed draws a new dataset (a simulated world) rather than a new split of the same one. */
  perSeed: boolean;
  /** The data for one benchmark seed; called once per seed. */
  draw(seed: number): BenchmarkDraw | Promise<BenchmarkDraw>;
}

export interface BenchmarkOptions extends Omit<RunOptions, 'seed'> {
  /** Seeds, each a new split and model initialisation (and a new world for simulated datasets). */
  seeds: readonly number[];
  /** Support fractions, each 0 < f < 1. */
  supports: readonly number[];
  /** A context name, or 'all' for leave-one-context-out over every context. */
  target: string;
  level?: number;
}

/** One (dataset, support fraction) of the report: its summary and the rows behind it. */
export interface BenchmarkCell extends RowSummary {
  name: string;
  support: number;
  seeds: number[];
  /** True when each seed was a new dataset (a simulated world), false when a new split of the same data. */
  perSeed: boolean;
  /** Size of the dataset (of the first seed's world for a simulated one). */
  dataset: { contexts: number; perturbations: number; genes: number; pairs: number };
  targetRows: BenchmarkRow[];
  skipped: { seed: number; context: string; reason: string }[];
  /** Simulated data: the noise ceiling and every method scored against the truth. */
  truth?: TruthSummary;
}

export interface BenchmarkReport {
  options: {
    seeds: number[];
    supports: number[];
    target: string;
    preset: ModelPreset;
    geneLimit: number;
  } & Pick<RunOptions, 'maxEpochs' | 'switches'> & { level: number };
  datasets: BenchmarkCell[];
}

export interface BenchmarkProgress {
  dataset: string;
  seed: number;
  support: number;
}

export interface BenchmarkHooks {
  /** Before each evaluate (one dataset, seed and support; all its targets). */
  onRun?: (at: BenchmarkProgress) => void;
  onTarget?: (at: BenchmarkProgress, evaluation: TargetEvaluation) => void;
}

/** The row's training notes: the run's, without the reference mix's weights (the app shows those). */
function trainOfTarget(info: TrainInfo): NonNullable<BenchmarkRow['train']> {
  const { epochs, bestEpoch, seconds, transfer, sparseBase, heldGenes } = info;
  const fixed = { epochs, bestEpoch, seconds, sparseBase, heldGenes };
  if (!transfer) return fixed;
  const { mix: _mix, ...record } = transfer;
  return { ...fixed, transfer: record };
}

function truthOfTarget(
  tensor: EffectTensor,
  truth: Float32Array,
  evaluation: TargetEvaluation,
): NonNullable<BenchmarkRow['truth']> {
  const context = tensor.contexts.indexOf(evaluation.context);
  const { ceiling, vsTruth } = scoreAgainstTruth(tensor, truth, context, evaluation);
  return { ceiling, vsTruth };
}

/**
 * Runs evaluate (the named target or all of them) for every dataset, seed and support fraction and
 * summarises each (dataset, support) over its (target, seed) rows. Datasets are drawn once per seed and
 * reused across the support fractions of that seed.
 */
export async function runBenchmark(
  datasets: readonly BenchmarkDataset[],
  options: BenchmarkOptions,
  hooks: BenchmarkHooks = {},
): Promise<BenchmarkReport> {
  const { seeds, supports, target, level = 0.95, ...run } = options;
  if (seeds.length === 0 || supports.length === 0)
    throw new Error('The benchmark needs a seed and a support.');
  const cells: BenchmarkCell[] = [];
  for (const dataset of datasets) {
    const own = supports.map((support) => ({
      rows: [] as BenchmarkRow[],
      skipped: [] as BenchmarkCell['skipped'],
      size: undefined as BenchmarkCell['dataset'] | undefined,
      support,
    }));
    for (const seed of seeds) {
      const { tensor, truth } = await dataset.draw(seed);
      for (const cell of own) {
        const at = { dataset: dataset.name, seed, support: cell.support };
        hooks.onRun?.(at);
        // Every evaluated target reaches onTarget, in the report's order: its row is built there, where the
        // predictions (for the truth scores) and the training notes are at hand.
        const report = await evaluate(
          tensor,
          target,
          { ...run, seed, supportFraction: cell.support },
          {
            onTarget: (evaluation) => {
              cell.rows.push({
                target: evaluation.context,
                seed,
                support: evaluation.support,
                query: evaluation.query,
                metrics: evaluation.metrics,
                train: trainOfTarget(evaluation.train),
                ...(truth && { truth: truthOfTarget(tensor, truth, evaluation) }),
              });
              hooks.onTarget?.(at, evaluation);
            },
          },
        );
        cell.size ??= report.dataset;
        for (const s of report.skipped) cell.skipped.push({ seed, ...s });
      }
    }
    for (const cell of own) {
      const truth = summariseTruth(cell.rows, { level });
      cells.push({
        name: dataset.name,
        support: cell.support,
        seeds: [...seeds],
        perSeed: dataset.perSeed,
        dataset: cell.size ?? { contexts: 0, perturbations: 0, genes: 0, pairs: 0 },
        ...summariseRows(cell.rows, { level }),
        targetRows: cell.rows,
        skipped: cell.skipped,
        ...(truth && { truth }),
      });
    }
  }
  return {
    options: { seeds: [...seeds], supports: [...supports], target, ...run, level },
    datasets: cells,
  };
}
