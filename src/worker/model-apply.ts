/**
 * Applying a model file to the loaded dataset without training (an imported file, or the model a restored
 * session kept): the results and, when the dataset's input is known, the run's reproducibility record with
 * the file named in it.
 */
import * as Comlink from 'comlink';
import type { EffectTensor } from '../core/data/tensor';
import { predictWithModelFile } from '../core/eval/protocol';
import type { PredictionResult, TargetEvaluation } from '../core/eval/results';
import { decodeModelFile } from '../core/model/model-file-decode';
import type { InputRecord, RunMode } from '../core/record';
import type { BackendInfo, ModelImportOutcome, RunSetup } from './api-types';
import { evaluationBuffers, evaluationView, predictionView } from './engine-views';
import { modelFileRecord, runRecord, type RunRecordParts } from './provenance';

/** What a run's record keeps of an evaluation. */
export const evaluationRecord = (result: TargetEvaluation): RunRecordParts['result'] => ({
  ...result,
  genes: result.genes.length,
  metrics: result.metrics,
});

/** What a run's record keeps of a prediction (nothing is held out: no metrics). */
export const predictionRecord = (result: PredictionResult): RunRecordParts['result'] => ({
  ...result,
  query: result.perturbations.length,
  genes: result.genes.length,
  metrics: null,
});

export interface ApplyRequest {
  /** The loaded dataset, null when none is. */
  tensor: EffectTensor | null;
  /** Where it came from, for the record; without it the results carry none. */
  input: InputRecord | undefined;
  text: string;
  fileName: string;
  /** The active backend (activated on demand). */
  backend: () => Promise<BackendInfo>;
  shouldStop: () => boolean;
}

export type Applied =
  { ok: true; target: string; outcome: ModelImportOutcome } | { ok: false; outcome: ModelImportOutcome };

/** Applies the model file; a refusal (damaged or newer file, missing genes, target or support) is data. */
export async function applyModelFile(request: ApplyRequest): Promise<Applied> {
  const refuse = (message: string): Applied => ({ ok: false, outcome: { ok: false, message } });
  const { tensor: data, text, fileName } = request;
  if (data === null) return refuse('Load the dataset the model was trained on first.');
  const decoded = decodeModelFile(text, fileName);
  if (!decoded.ok) return refuse(decoded.error.message);
  const model = decoded.data;
  const backend = await request.backend();
  let restored;
  try {
    restored = await predictWithModelFile(data, model, { shouldStop: request.shouldStop }, fileName);
  } catch (error) {
    if (error instanceof Error && error.name === 'AbortError') throw error;
    return refuse(error instanceof Error ? error.message : String(error));
  }
  const target = data.contexts.indexOf(model.target);
  const { settings } = model;
  const setup: RunSetup = {
    target,
    // Read by the record in evaluate mode only (a predict-mode file has none).
    supportFraction: settings.supportFraction ?? 0,
    seed: settings.seed,
    preset: settings.preset,
    geneLimit: settings.geneLimit,
    ...(settings.maxEpochs !== null && { maxEpochs: settings.maxEpochs }),
  };
  const input = request.input;
  const fileRecord = await modelFileRecord(text, fileName, model);
  const record = (mode: RunMode, result: RunRecordParts['result']) =>
    input && { record: runRecord({ mode, tensor: data, input, backend, setup, result, model: fileRecord }) };
  const notes = [...decoded.notes, ...restored.notes];
  if (restored.mode === 'evaluate') {
    const evaluation = {
      ...evaluationView(restored.evaluation),
      ...record('evaluate', evaluationRecord(restored.evaluation)),
    };
    const outcome: ModelImportOutcome = { ok: true, mode: 'evaluate', evaluation, target, notes };
    return {
      ok: true,
      target: model.target,
      outcome: Comlink.transfer(outcome, evaluationBuffers(evaluation)),
    };
  }
  const prediction = {
    ...predictionView(restored.prediction),
    ...record('predict', predictionRecord(restored.prediction)),
  };
  const outcome: ModelImportOutcome = { ok: true, mode: 'predict', prediction, target, notes };
  return {
    ok: true,
    target: model.target,
    outcome: Comlink.transfer(outcome, [prediction.predictions.buffer as ArrayBuffer]),
  };
}
