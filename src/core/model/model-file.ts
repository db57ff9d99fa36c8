/**
 * The portable C3TL model file: one UTF-8 JSON document (browser, worker and CLI write and read the same
 * bytes) holding a trained model's weights and everything needed to rebuild it on a dataset.
 *
 * Layout (format "c3tl-model", formatVersion 7): a header of plain JSON fields (architecture, preprocessing,
 * target, support, settings, dataset hash, versions) and `weights`, one entry per parameter:
 * { shape: number[], data: base64 } where data holds the values as little-endian IEEE-754 float32, row-major,
 * gene axes in the order of preprocessing.genes. The standardisation's mean and scale are stored the same way.
 * `transfer` holds the learnt transfer path (transfer.ts), or null when it was off: its feature genes by name,
 * its weights in the same encoding, feature axes in the order of `transfer.features`, `sparseMix`, whether
 * its reference mix read the references' sparse-denoised effects, and `withoutSlope`, whether it was applied on
 * the fixed form with its support slope off (refitting the slope on what its mix leaves), and `robustShift`,
 * whether its transfer corrects the fixed form's shift (transfer-support.ts robustShift).
 *
 * `preprocessing.sparseBase` says whether the fixed form's perturbation means were denoised as sparse
 * (sparse-base.ts). Version 6 files (before the robust shift) are read with robustShift false. Version 5
 * files (before the path could sit on the slope-free form) are also read with withoutSlope false. Version 4 files (before the denoised means) are also read with sparseBase false, as
 * they predicted. Version 3 files (before the mix could read sparse-denoised effects) are also read with
 * sparseMix false. Version 2 files (before the transfer path's reference mix, architecture.switches.mix) are read with the mix
 * off, so they predict as they did when written. Version 1 files (before the transfer path) are refused with a message that says so: they hold only the
 * fixed form, which is no longer what "C3TL" predicts, so restoring them would show other numbers under the
 * same name.
 *
 * C3TL's predictions depend on the data as well as on the weights (the set encoders read the other contexts'
 * measurements and the target's support), so a model is applied to a dataset holding its genes, its target
 * context and its support perturbations (normally the dataset it was trained on): restoring builds the same
 * model on that data with these weights, and no training happens.
 */
import type { ParseResult } from '../data/result';
import type { EffectTensor } from '../data/tensor';
import type { ModelPreset } from '../eval/types';
import { sha256Hex } from '../sha256';
import type { C3tlArchitecture, C3tlSwitches, ParameterName } from './c3tl';
import { PARAMETER_NAMES, parameterShapes } from './c3tl';
import { TRANSFER_PARAMETER_NAMES, type TransferParameterName } from './transfer';
import type { GeneStandardisation } from './standardise';

export const MODEL_FORMAT = 'c3tl-model';
export const MODEL_FORMAT_VERSION = 7;
/** File name ending the app and the CLI use. */
export const MODEL_FILE_EXTENSION = '.c3tl.json';

export type ModelMode = 'evaluate' | 'predict';

/** A decoded model file; typed arrays are the decoded float32 values. */
export interface ModelFile {
  format: typeof MODEL_FORMAT;
  /**
   * Version 6 files are read as version 7 with transfer.robustShift false; version 5 files also with
   * transfer.withoutSlope false; version 4 files also with
   * preprocessing.sparseBase false; version 3 files also with
   * transfer.sparseMix false; version 2 files also with the transfer path's reference mix and linear transfer
   * off.
   */
  formatVersion: typeof MODEL_FORMAT_VERSION;
  /** ISO 8601 time the file was written. */
  createdAt: string;
  versions: { app: string; tfjs: string };
  architecture: C3tlArchitecture & { preset: ModelPreset; switches: C3tlSwitches };
  preprocessing: {
    /** The model's genes, in its order (the order of every gene axis below). */
    genes: string[];
    /** Most variable genes kept when it was trained; 0 kept all. */
    geneLimit: number;
    /** Per-gene location and scale (length genes.length) the weights are expressed in. */
    standardisation: GeneStandardisation;
    /** Whether the fixed form's perturbation means were denoised as sparse (sparse-base.ts). */
    sparseBase: boolean;
  };
  /** Name of the target context. */
  target: string;
  /** evaluate: query = held-out pairs; predict: query = the target's unmeasured perturbations then. */
  mode: ModelMode;
  /** Perturbation names of the target's support: the training part and the validation part. */
  support: { train: string[]; validation: string[] };
  /** Perturbation names that were predicted (held out in evaluate mode). */
  query: string[];
  settings: {
    seed: number;
    preset: ModelPreset;
    /** Support share in evaluate mode; null in predict mode. */
    supportFraction: number | null;
    geneLimit: number;
    maxEpochs: number | null;
  };
  /** The dataset it was trained on: datasetHash() and its size. */
  dataset: { sha256: string; contexts: number; perturbations: number; genes: number };
  training: { backend: string; epochs: number; bestEpoch: number; seconds: number };
  /** Every parameter, gene axes in preprocessing.genes order. */
  weights: Record<ParameterName, Float32Array>;
  /**
   * The transfer path: its feature genes (names, among preprocessing.genes), weights, whether its mix read
   * sparse-denoised effects and whether it sits on the fixed form with its slope off; null when off.
   */
  transfer: {
    features: string[];
    weights: Record<TransferParameterName, Float32Array>;
    sparseMix: boolean;
    withoutSlope: boolean;
    /** Whether its transfer corrects the fixed form's shift (robustShift in transfer-support.ts). */
    robustShift: boolean;
  } | null;
}

/** Shapes of the transfer path's weights for F feature genes and G genes. */
export function transferShapes(features: number, genes: number): Record<TransferParameterName, number[]> {
  return { devWeight: [features], meanWeight: [features], gain: [genes], logits: [3], context: [1] };
}

const encoder = new TextEncoder();

/** float32 values as base64 of their little-endian bytes (the same text on every platform). */
export function float32ToBase64(values: Float32Array): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** Inverse of float32ToBase64; throws on text that is not base64 of a whole number of float32 values. */
export function base64ToFloat32(text: string): Float32Array {
  const binary = atob(text);
  if (binary.length % 4 !== 0) throw new Error(`${binary.length} bytes is not a whole number of float32s`);
  const view = new DataView(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i));
  const out = new Float32Array(binary.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/**
 * SHA-256 of a dataset's content, 64 lowercase hex digits: of the concatenated SHA-256 digests of (1) the
 * UTF-8 JSON of [contexts, perturbations, genes], (2) the C*P*G effects as float32 bytes in platform order
 * (little-endian on every platform tfjs runs on) and (3) the C*P mask. Digesting the parts separately avoids
 * copying the effects (Web Crypto has no incremental digest).
 */
export async function datasetHash(tensor: EffectTensor): Promise<string> {
  const names = encoder.encode(JSON.stringify([tensor.contexts, tensor.perturbations, tensor.genes]));
  const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer as ArrayBuffer, a.byteOffset, a.byteLength);
  const values = bytesOf(tensor.values);
  const mask = bytesOf(tensor.observed);
  const parts = await Promise.all(
    [names, values, mask].map(async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))),
  );
  const joined = new Uint8Array(parts.length * 32);
  parts.forEach((digest, i) => joined.set(digest, i * 32));
  return sha256Hex(joined);
}

/** The model file as JSON text (weights and standardisation base64-encoded, see the file comment). */
export function encodeModelFile(model: ModelFile): string {
  const weights: Record<string, { shape: number[]; data: string }> = {};
  const shapes = parameterShapes(model.architecture);
  for (const name of PARAMETER_NAMES) {
    weights[name] = { shape: shapes[name], data: float32ToBase64(model.weights[name]) };
  }
  const { standardisation, ...preprocessing } = model.preprocessing;
  let transfer: {
    features: string[];
    weights: Record<string, { shape: number[]; data: string }>;
    sparseMix: boolean;
    withoutSlope: boolean;
    robustShift: boolean;
  } | null = null;
  if (model.transfer) {
    const tShapes = transferShapes(model.transfer.features.length, model.architecture.genes);
    const tWeights: Record<string, { shape: number[]; data: string }> = {};
    for (const name of TRANSFER_PARAMETER_NAMES)
      tWeights[name] = { shape: tShapes[name], data: float32ToBase64(model.transfer.weights[name]) };
    const { features, sparseMix, withoutSlope, robustShift } = model.transfer;
    transfer = { features, weights: tWeights, sparseMix, withoutSlope, robustShift };
  }
  return `${JSON.stringify({
    ...model,
    transfer,
    preprocessing: {
      ...preprocessing,
      standardisation: {
        mean: float32ToBase64(standardisation.mean),
        scale: float32ToBase64(standardisation.scale),
      },
    },
    weights,
  })}\n`;
}

function examples(names: readonly string[]): string {
  const shown = names.slice(0, 3).map((n) => `"${n}"`);
  return names.length > 3 ? `${shown.join(', ')} and ${names.length - 3} more` : shown.join(', ');
}

/**
 * Whether the model can be applied to this dataset: every model gene, the target context and the support
 * perturbations must be there (the support measured in the target). Refusals say how much is missing with
 * examples; a different dataset hash only adds a note (the model then runs on data it was not trained on).
 */
export async function checkModelAgainst(
  tensor: EffectTensor,
  model: ModelFile,
  file = 'model file',
): Promise<ParseResult<{ target: number }>> {
  const refuse = (expected: string, found: string): ParseResult<{ target: number }> => ({
    ok: false,
    error: { file, expected, found, message: `${file}: expected ${expected}, found ${found}.` },
  });
  const genes = new Set(tensor.genes);
  const missingGenes = model.preprocessing.genes.filter((g) => !genes.has(g));
  if (missingGenes.length > 0) {
    return refuse(
      `a dataset with the model's genes (the model was trained on ${model.preprocessing.genes.length} genes)`,
      `a dataset that lacks ${missingGenes.length} of them, e.g. ${examples(missingGenes)}`,
    );
  }
  const target = tensor.contexts.indexOf(model.target);
  if (target < 0) {
    return refuse(
      `a dataset with the model's target context "${model.target}"`,
      `only ${examples(tensor.contexts)}`,
    );
  }
  const P = tensor.perturbations.length;
  const index = new Map(tensor.perturbations.map((p, i) => [p, i]));
  const support = [...model.support.train, ...model.support.validation];
  const missingSupport = support.filter((p) => {
    const i = index.get(p);
    return i === undefined || !tensor.observed[target * P + i];
  });
  if (missingSupport.length > 0) {
    return refuse(
      `the model's ${support.length} support perturbations measured in "${model.target}"`,
      `${missingSupport.length} missing there, e.g. ${examples(missingSupport)}`,
    );
  }
  const notes: string[] = [];
  const hash = await datasetHash(tensor);
  if (hash !== model.dataset.sha256) {
    notes.push(
      'This dataset differs from the one the model was trained on (another SHA-256): the model is applied ' +
        'to it as it is, and its predictions use this data.',
    );
  }
  return { ok: true, data: { target }, notes };
}

/** The tensor restricted to the given genes, in that order (each must be among tensor.genes). */
export function restrictToGenes(tensor: EffectTensor, genes: readonly string[]): EffectTensor {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const position = new Map(tensor.genes.map((g, i) => [g, i]));
  const keep = genes.map((g) => {
    const i = position.get(g);
    if (i === undefined) throw new Error(`Gene "${g}" is not in the dataset.`);
    return i;
  });
  const K = keep.length;
  const values = new Float32Array(C * P * K);
  for (let pair = 0; pair < C * P; pair++)
    for (let j = 0; j < K; j++) values[pair * K + j] = tensor.values[pair * G + keep[j]];
  let basal: Float32Array | undefined;
  if (tensor.basal) {
    basal = new Float32Array(C * K);
    for (let c = 0; c < C; c++) for (let j = 0; j < K; j++) basal[c * K + j] = tensor.basal[c * G + keep[j]];
  }
  return {
    contexts: [...tensor.contexts],
    perturbations: [...tensor.perturbations],
    genes: [...genes],
    values,
    observed: tensor.observed.slice(),
    replicates: tensor.replicates.slice(),
    ...(basal ? { basal } : {}),
  };
}
