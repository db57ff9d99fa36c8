/**
 * The portable C3TL model file: one UTF-8 JSON document (browser, worker and CLI write and read the same
 * bytes) holding a trained model's weights and everything needed to rebuild it on a dataset.
 *
 * Layout (format "c3tl-model", formatVersion 2): a header of plain JSON fields (architecture, preprocessing,
 * target, support, settings, dataset hash, versions) and `weights`, one entry per parameter:
 * { shape: number[], data: base64 } where data holds the values as little-endian IEEE-754 float32, row-major,
 * gene axes in the order of preprocessing.genes. The standardisation's mean and scale are stored the same way.
 * `transfer` holds the learnt transfer path (transfer.ts), or null when it was off: its feature genes by name
 * and its weights in the same encoding, feature axes in the order of `transfer.features`.
 *
 * Version 1 files (before the transfer path) are refused with a message that says so: they hold only the
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
export const MODEL_FORMAT_VERSION = 2;
/** File name ending the app and the CLI use. */
export const MODEL_FILE_EXTENSION = '.c3tl.json';

export type ModelMode = 'evaluate' | 'predict';

/** A decoded model file; typed arrays are the decoded float32 values. */
export interface ModelFile {
  format: typeof MODEL_FORMAT;
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
  /** The transfer path: its feature genes (names, among preprocessing.genes) and weights; null when off. */
  transfer: { features: string[]; weights: Record<TransferParameterName, Float32Array> } | null;
}

/** Shapes of the transfer path's weights for F feature genes and G genes. */
function transferShapes(features: number, genes: number): Record<TransferParameterName, number[]> {
  return { devWeight: [features], meanWeight: [features], gain: [genes], logits: [3], context: [1] };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

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
  let transfer: { features: string[]; weights: Record<string, { shape: number[]; data: string }> } | null =
    null;
  if (model.transfer) {
    const tShapes = transferShapes(model.transfer.features.length, model.architecture.genes);
    const tWeights: Record<string, { shape: number[]; data: string }> = {};
    for (const name of TRANSFER_PARAMETER_NAMES)
      tWeights[name] = { shape: tShapes[name], data: float32ToBase64(model.transfer.weights[name]) };
    transfer = { features: model.transfer.features, weights: tWeights };
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

type Json = Record<string, unknown>;

class Corrupt extends Error {}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field<T>(object: Json, path: string, check: (v: unknown) => v is T, expected: string): T {
  const value = path.split('.').reduce<unknown>((o, key) => (isObject(o) ? o[key] : undefined), object);
  if (!check(value)) throw new Corrupt(`"${path}" should be ${expected}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): v is number => isNumber(v) && Number.isInteger(v) && v >= 0;
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isPreset = (v: unknown): v is ModelPreset => v === 'small' || v === 'medium' || v === 'large';
const isMode = (v: unknown): v is ModelMode => v === 'evaluate' || v === 'predict';
const orNull =
  <T>(check: (v: unknown) => v is T) =>
  (v: unknown): v is T | null =>
    v === null || check(v);

function floats(object: Json, path: string, length: number): Float32Array {
  const text = field(object, path, isString, 'base64 text');
  let values: Float32Array;
  try {
    values = base64ToFloat32(text);
  } catch (error) {
    throw new Corrupt(`"${path}" is not base64 float32 data (${(error as Error).message})`);
  }
  if (values.length !== length) {
    throw new Corrupt(`"${path}" holds ${values.length} values where ${length} were expected`);
  }
  return values;
}

function parseBody(json: Json): ModelFile {
  const arch = {
    genes: field(json, 'architecture.genes', isCount, 'a gene count'),
    basisRank: field(json, 'architecture.basisRank', isCount, 'a count'),
    embedDim: field(json, 'architecture.embedDim', isCount, 'a count'),
    hidden: field(json, 'architecture.hidden', isCount, 'a count'),
  };
  const switches: C3tlSwitches = {
    denoise: field(json, 'architecture.switches.denoise', isBoolean, 'true or false'),
    shift: field(json, 'architecture.switches.shift', isBoolean, 'true or false'),
    slope: field(json, 'architecture.switches.slope', isBoolean, 'true or false'),
    network: field(json, 'architecture.switches.network', isBoolean, 'true or false'),
    transfer: field(json, 'architecture.switches.transfer', isBoolean, 'true or false'),
    deviations: field(json, 'architecture.switches.deviations', isBoolean, 'true or false'),
    context: field(json, 'architecture.switches.context', isBoolean, 'true or false'),
  };
  const genes = field(json, 'preprocessing.genes', isStrings, 'a list of gene names');
  if (genes.length !== arch.genes) {
    throw new Corrupt(`it lists ${genes.length} genes but its architecture has ${arch.genes}`);
  }
  const shapes = parameterShapes(arch);
  const weights = {} as Record<ParameterName, Float32Array>;
  for (const name of PARAMETER_NAMES) {
    const shape = field(json, `weights.${name}.shape`, (v): v is number[] => Array.isArray(v), 'a shape');
    if (shape.join(',') !== shapes[name].join(',')) {
      throw new Corrupt(
        `weight ${name} has shape [${shape.join(', ')}], expected [${shapes[name].join(', ')}]`,
      );
    }
    weights[name] = floats(
      json,
      `weights.${name}.data`,
      shapes[name].reduce((a, b) => a * b, 1),
    );
  }
  let transfer: ModelFile['transfer'] = null;
  if (switches.transfer) {
    const features = field(json, 'transfer.features', isStrings, 'a list of gene names');
    const known = new Set(genes);
    const stray = features.find((g) => !known.has(g));
    if (stray !== undefined) throw new Corrupt(`transfer feature gene "${stray}" is not among its genes`);
    const tShapes = transferShapes(features.length, genes.length);
    const tWeights = {} as Record<TransferParameterName, Float32Array>;
    for (const name of TRANSFER_PARAMETER_NAMES) {
      tWeights[name] = floats(
        json,
        `transfer.weights.${name}.data`,
        tShapes[name].reduce((a, b) => a * b, 1),
      );
    }
    transfer = { features, weights: tWeights };
  }
  return {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    transfer,
    createdAt: field(json, 'createdAt', isString, 'a time'),
    versions: {
      app: field(json, 'versions.app', isString, 'a version'),
      tfjs: field(json, 'versions.tfjs', isString, 'a version'),
    },
    architecture: { ...arch, preset: field(json, 'architecture.preset', isPreset, 'a preset'), switches },
    preprocessing: {
      genes,
      geneLimit: field(json, 'preprocessing.geneLimit', isCount, 'a count'),
      standardisation: {
        mean: floats(json, 'preprocessing.standardisation.mean', genes.length),
        scale: floats(json, 'preprocessing.standardisation.scale', genes.length),
      },
    },
    target: field(json, 'target', isString, 'a context name'),
    mode: field(json, 'mode', isMode, '"evaluate" or "predict"'),
    support: {
      train: field(json, 'support.train', isStrings, 'a list of perturbation names'),
      validation: field(json, 'support.validation', isStrings, 'a list of perturbation names'),
    },
    query: field(json, 'query', isStrings, 'a list of perturbation names'),
    settings: {
      seed: field(json, 'settings.seed', isNumber, 'a number'),
      preset: field(json, 'settings.preset', isPreset, 'a preset'),
      supportFraction: field(json, 'settings.supportFraction', orNull(isNumber), 'a fraction or null'),
      geneLimit: field(json, 'settings.geneLimit', isCount, 'a count'),
      maxEpochs: field(json, 'settings.maxEpochs', orNull(isCount), 'a count or null'),
    },
    dataset: {
      sha256: field(json, 'dataset.sha256', isString, 'a SHA-256'),
      contexts: field(json, 'dataset.contexts', isCount, 'a count'),
      perturbations: field(json, 'dataset.perturbations', isCount, 'a count'),
      genes: field(json, 'dataset.genes', isCount, 'a count'),
    },
    training: {
      backend: field(json, 'training.backend', isString, 'a backend name'),
      epochs: field(json, 'training.epochs', isCount, 'a count'),
      bestEpoch: field(json, 'training.bestEpoch', isCount, 'a count'),
      seconds: field(json, 'training.seconds', isNumber, 'a number'),
    },
    weights,
  };
}

/**
 * Reads a model file (its text, or its bytes as UTF-8). Refuses another kind of file, a newer format
 * version and damaged content, each with a message naming what is wrong; `file` names the file in messages.
 */
export function decodeModelFile(input: string | Uint8Array, file = 'model file'): ParseResult<ModelFile> {
  const refuse = (expected: string, found: string): ParseResult<ModelFile> => ({
    ok: false,
    error: { file, expected, found, message: `${file}: expected ${expected}, found ${found}.` },
  });
  let text: string;
  try {
    text = typeof input === 'string' ? input : decoder.decode(input);
  } catch {
    return refuse('a C3TL model file (UTF-8 JSON)', 'bytes that are not UTF-8 text');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refuse('a C3TL model file (JSON)', 'text that is not JSON (damaged or another kind of file)');
  }
  if (!isObject(json) || json.format !== MODEL_FORMAT) {
    const found = isObject(json) && typeof json.format === 'string' ? `"${json.format}"` : 'no format name';
    return refuse(`a C3TL model file (format "${MODEL_FORMAT}")`, `another kind of file (format ${found})`);
  }
  const version = json.formatVersion;
  if (!isCount(version) || version < 1) return refuse('a format version', String(version));
  if (version < MODEL_FORMAT_VERSION) {
    return refuse(
      `model format version ${MODEL_FORMAT_VERSION}`,
      `version ${version}, written by an earlier C3TL Studio before C3TL gained its learnt transfer path: ` +
        'it holds only what is now the `calibrated` method. Train the model again to get a file of this version',
    );
  }
  if (version > MODEL_FORMAT_VERSION) {
    return refuse(
      `model format version ${MODEL_FORMAT_VERSION} or older`,
      `version ${version}, written by a newer C3TL Studio (update the app to read it)`,
    );
  }
  try {
    return { ok: true, data: parseBody(json), notes: [] };
  } catch (error) {
    if (!(error instanceof Corrupt)) throw error;
    return refuse('a complete C3TL model file', `damaged content: ${error.message}`);
  }
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
