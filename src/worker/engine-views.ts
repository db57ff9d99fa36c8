/** Plain-data helpers of the engine: Comlink callbacks, the UI's slices of results, transferable buffers. */
import * as Comlink from 'comlink';
import { bestBaseline } from '../core/eval/best-baseline';
import type { PredictionResult, TargetEvaluation } from '../core/eval/results';
import type { RunOptions } from '../core/eval/types';
import { decodeModelFile } from '../core/model/model-file-decode';
import type { EvaluationView, PredictionView, RunSetup } from './api-types';

/** Calls a callback that may be a Comlink proxy (its call returns a promise) without awaiting it. */
export function notify<T>(callback: ((value: T) => void) | undefined, value: T): void {
  if (!callback) return;
  // A UI that went away must not break training: a rejected notification is dropped.
  Promise.resolve(callback(value) as unknown).catch(() => undefined);
}

export function release(callback: unknown): void {
  const remote = callback as { [Comlink.releaseProxy]?: () => void } | undefined;
  if (typeof callback === 'function' && typeof remote?.[Comlink.releaseProxy] === 'function') {
    remote[Comlink.releaseProxy]();
  }
}

export function buffersOf(arrays: ArrayBufferView[]): ArrayBuffer[] {
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}

export function runOptions(setup: RunSetup): RunOptions {
  return {
    seed: setup.seed,
    preset: setup.preset,
    geneLimit: setup.geneLimit,
    ...(setup.maxEpochs !== undefined ? { maxEpochs: setup.maxEpochs } : {}),
  };
}

/** The UI's slice of an evaluation: C3TL and the best baseline's predictions, arrays copied. */
export function evaluationView(result: TargetEvaluation): EvaluationView {
  const best = bestBaseline(result.metrics);
  return {
    context: result.context,
    support: result.support,
    query: result.query,
    metrics: result.metrics,
    perPair: result.perPair,
    queryPerturbations: result.queryPerturbations,
    genes: result.genes,
    observed: result.observed.slice(),
    bestBaseline: best,
    predictions: { c3tl: result.predictions.c3tl.slice(), [best]: result.predictions[best].slice() },
    contextMean: result.contextMean.slice(),
    train: result.train,
    warnings: result.warnings,
  };
}

export function predictionView(result: PredictionResult): PredictionView {
  return {
    context: result.context,
    support: result.support,
    perturbations: result.perturbations,
    genes: result.genes,
    predictions: result.predictions.c3tl.slice(),
    train: result.train,
  };
}

export function evaluationBuffers(view: EvaluationView): ArrayBuffer[] {
  const truth = view.truth ? [view.truth.values] : [];
  return buffersOf([view.observed, view.contextMean, ...Object.values(view.predictions), ...truth]);
}

/** The target named in a model file's text ('' when it cannot be read). */
export function modelTarget(text: string): string {
  const decoded = decodeModelFile(text);
  return decoded.ok ? decoded.data.target : '';
}

/** A file-name-safe form of a context name. */
export function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'model';
}
