import * as tf from '@tensorflow/tfjs';
import { tensorSummary, unmeasuredPerturbations, type EffectTensor } from '../data/tensor';
import { checkModelAgainst, type ModelFile } from '../model/model-file';
import { evaluation, fitSplit, prediction } from './fit';
import { definedMean } from './metrics';
import { METHODS, type Method } from './methods';
import type { MetricValues } from './metric-info';
import type {
  EvaluationReport,
  KeepOptions,
  PredictionResult,
  RestoredRun,
  SweepPoint,
  TargetEvaluation,
} from './results';
import { evaluationSplit, predictionSplit } from './split';
import { RunOptionError } from './switches';
import type { EvaluateOptions, ModelPreset, RunHooks, RunOptions, TargetSplit } from './types';

// The benchmark CLIs name the preset type through the protocol.
export type { ModelPreset };

/** Leave-one-context-out evaluation of one target: split, baselines, C3TL, metrics on the held-out pairs. */
export async function evaluateTarget(
  tensor: EffectTensor,
  target: number,
  options: EvaluateOptions,
  hooks: RunHooks = {},
  keep: KeepOptions = {},
): Promise<TargetEvaluation> {
  const split = evaluationSplit(tensor, target, {
    supportFraction: options.supportFraction,
    seed: options.seed,
  });
  const fitted = await fitSplit(tensor, split, options, hooks, {
    kind: 'train',
    ...(keep.keepModelFile && { keep: { mode: 'evaluate', supportFraction: options.supportFraction } }),
  });
  return evaluation(tensor, split, fitted);
}

/** Mean of each metric over the targets that define it (NaN where none does), per method. */
export function meanMetrics(rows: readonly Record<Method, MetricValues>[]): Record<Method, MetricValues> {
  const out = {} as Record<Method, MetricValues>;
  for (const method of METHODS) out[method] = definedMean(rows.map((row) => row[method]));
  return out;
}

/**
 * Evaluates the named target, or every context in turn ('all'). Contexts that cannot be targets (fewer than
 * two perturbations shared with other contexts) are listed in `skipped`; naming one of them, or 'all' when
 * none can be a target, throws.
 */
export async function evaluate(
  tensor: EffectTensor,
  target: string,
  options: EvaluateOptions,
  hooks: RunHooks & { onTarget?: (evaluation: TargetEvaluation) => void } = {},
  keep: KeepOptions = {},
): Promise<EvaluationReport> {
  const indices = target === 'all' ? tensor.contexts.map((_, c) => c) : [tensor.contexts.indexOf(target)];
  if (indices[0] < 0) {
    throw new Error(`No context named "${target}"; the contexts are: ${tensor.contexts.join(', ')}.`);
  }
  const targets: EvaluationReport['targets'] = [];
  const skipped: EvaluationReport['skipped'] = [];
  const warnings: string[] = [];
  let seconds = 0;
  for (const c of indices) {
    let evaluation: TargetEvaluation;
    try {
      evaluation = await evaluateTarget(tensor, c, options, hooks, keep);
    } catch (error) {
      if (
        target !== 'all' ||
        !(error instanceof Error) ||
        error.name === 'AbortError' ||
        error instanceof RunOptionError
      ) {
        throw error;
      }
      skipped.push({ context: tensor.contexts[c], reason: error.message });
      continue;
    }
    hooks.onTarget?.(evaluation);
    warnings.push(...evaluation.warnings);
    seconds += evaluation.train.seconds;
    targets.push({
      context: evaluation.context,
      support: evaluation.support,
      query: evaluation.query,
      metrics: evaluation.metrics,
    });
  }
  if (!targets.length) {
    // An empty report would read as a successful run with every mean 0.
    throw new Error(
      `No context could be evaluated: ${skipped.map((s) => s.reason).join(' ')} To evaluate a target, ` +
        'measure at least 2 of the same perturbations in the target and another context.',
    );
  }
  const summary = tensorSummary(tensor);
  return {
    dataset: {
      contexts: summary.contexts,
      perturbations: summary.perturbations,
      genes: summary.genes,
      pairs: summary.pairs,
    },
    targets,
    mean: meanMetrics(targets.map((t) => t.metrics)),
    train: { backend: tf.getBackend(), seconds },
    skipped,
    warnings,
    options,
  };
}

/** Prediction mode: all shared measured perturbations of the target are support; predicts the unmeasured ones. */
export async function predictTarget(
  tensor: EffectTensor,
  target: number,
  options: RunOptions,
  hooks: RunHooks = {},
  keep: KeepOptions = {},
): Promise<PredictionResult> {
  const split = predictionSplit(tensor, target, { seed: options.seed });
  if (split.query.length === 0) {
    throw new Error(
      `Context "${tensor.contexts[target]}" has measured every perturbation seen elsewhere: nothing to predict.`,
    );
  }
  const fitted = await fitSplit(tensor, split, options, hooks, {
    kind: 'train',
    ...(keep.keepModelFile && { keep: { mode: 'predict', supportFraction: null } }),
  });
  return prediction(tensor, split, fitted);
}

/**
 * Applies a model file to a dataset without training (checkModelAgainst first; its refusal is thrown as an
 * Error with the message). The model is rebuilt on the dataset with the file's genes, target, support and
 * weights. An evaluate-mode model predicts and scores its held-out query pairs (those measured in the
 * target here); a predict-mode model predicts the target's perturbations that are unmeasured here.
 * notes: e.g. that the dataset differs from the one the model was trained on. file names the model file in
 * messages.
 */
export async function predictWithModelFile(
  tensor: EffectTensor,
  model: ModelFile,
  hooks: RunHooks = {},
  file = 'model file',
): Promise<RestoredRun> {
  const checked = await checkModelAgainst(tensor, model, file);
  if (!checked.ok) throw new Error(checked.error.message);
  const target = checked.data.target;
  const P = tensor.perturbations.length;
  const index = new Map(tensor.perturbations.map((p, i) => [p, i]));
  const indices = (names: readonly string[]) =>
    names.map((n) => index.get(n)).filter((i): i is number => i !== undefined);
  const supportTrain = indices(model.support.train);
  const supportVal = indices(model.support.validation);
  const query =
    model.mode === 'evaluate'
      ? indices(model.query).filter((p) => tensor.observed[target * P + p])
      : unmeasuredPerturbations(tensor, target);
  if (query.length === 0) {
    throw new Error(
      model.mode === 'evaluate'
        ? `None of the model's ${model.query.length} held-out perturbations is measured in "${model.target}" in this dataset.`
        : `Context "${model.target}" has measured every perturbation seen elsewhere: nothing to predict.`,
    );
  }
  const split: TargetSplit = { target, supportTrain, supportVal, query };
  const options = {
    seed: model.settings.seed,
    preset: model.architecture.preset,
    geneLimit: model.preprocessing.geneLimit,
  };
  const fitted = await fitSplit(tensor, split, options, hooks, { kind: 'restore', model });
  return model.mode === 'evaluate'
    ? { mode: 'evaluate', evaluation: evaluation(tensor, split, fitted), notes: checked.notes }
    : { mode: 'predict', prediction: prediction(tensor, split, fitted), notes: checked.notes };
}

/**
 * Support-fraction sweep (e.g. 0.01, 0.05, 0.1, 0.3) for one target, all points scored on the same held-out
 * pairs; hooks.onEpoch reports each training.
 */
export async function sweepSupport(
  tensor: EffectTensor,
  target: number,
  fractions: readonly number[],
  options: RunOptions,
  hooks: RunHooks & { onPoint?: (point: SweepPoint) => void } = {},
): Promise<SweepPoint[]> {
  // Every point is scored on the same held-out pairs, those left by the largest support: supports of one seed
  // are nested prefixes of one shuffle, so each smaller support is disjoint from that query.
  const largest = Math.max(...fractions);
  const { query } = evaluationSplit(tensor, target, { supportFraction: largest, seed: options.seed });
  const points: SweepPoint[] = [];
  for (const fraction of fractions) {
    const own = evaluationSplit(tensor, target, { supportFraction: fraction, seed: options.seed });
    const split: TargetSplit = { ...own, query };
    const fitted = await fitSplit(tensor, split, options, hooks, { kind: 'train' });
    const scored = evaluation(tensor, split, fitted);
    const point = { fraction, support: scored.support, metrics: scored.metrics };
    points.push(point);
    hooks.onPoint?.(point);
  }
  return points;
}
