/** Reading a model file (model-file.ts describes the layout): every field checked, refusals as data. */
import type { ParseResult } from '../data/result';
import type { ModelPreset } from '../eval/types';
import { PARAMETER_NAMES, parameterShapes, type C3tlSwitches, type ParameterName } from './c3tl';
import {
  base64ToFloat32,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  transferShapes,
  type ModelFile,
  type ModelMode,
} from './model-file';
import { TRANSFER_PARAMETER_NAMES, type TransferParameterName } from './transfer';

const decoder = new TextDecoder('utf-8', { fatal: true });

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

function parseBody(json: Json, version: number): ModelFile {
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
    // Version 2 files predate the reference mix: their transfer path predicted without it.
    mix: version >= 3 ? field(json, 'architecture.switches.mix', isBoolean, 'true or false') : false,
    linear: version >= 3 ? field(json, 'architecture.switches.linear', isBoolean, 'true or false') : false,
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
    // Version 3 files predate the sparse-denoised mix: their mix read the raw effects.
    const sparseMix = version >= 4 ? field(json, 'transfer.sparseMix', isBoolean, 'true or false') : false;
    // Version 5 files predate the slope-free base: their path sat on the whole fixed form.
    const withoutSlope =
      version >= 6 ? field(json, 'transfer.withoutSlope', isBoolean, 'true or false') : false;
    // Version 6 files predate the robust shift: their transfer left the fixed form's shift as it was.
    const robustShift =
      version >= 7 ? field(json, 'transfer.robustShift', isBoolean, 'true or false') : false;
    transfer = { features, weights: tWeights, sparseMix, withoutSlope, robustShift };
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
      // Version 4 files predate the sparse-denoised means: their fixed form read the observed effects.
      sparseBase: version >= 5 ? field(json, 'preprocessing.sparseBase', isBoolean, 'true or false') : false,
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

/** What a file of an older version that is still read predicts, by version. */
const OLDER_VERSION_NOTES: Record<number, string> = {
  2:
    "Model format version 2: written before C3TL's transfer path gained the reference mix, " +
    'so it predicts as it did then, without the mix and the linear transfer.',
  3:
    'Model format version 3: written before the reference mix could read sparse-denoised effects, ' +
    'so its mix reads the raw effects, as it did then.',
  4:
    "Model format version 4: written before the fixed form's perturbation means could be denoised " +
    'as sparse, so they read the observed effects, as they did then.',
  5:
    "Model format version 5: written before C3TL's transfer path could sit on the fixed form without " +
    'its support slope, so it sits on the whole fixed form, as it did then.',
  6:
    "Model format version 6: written before C3TL's transfer path corrected the fixed form's shift by the " +
    "support's robust shift, so it leaves that shift as it did then.",
};

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
  if (version < 2) {
    return refuse(
      'model format version 2 or later',
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
    const note = OLDER_VERSION_NOTES[version];
    return { ok: true, data: parseBody(json, version), notes: note ? [note] : [] };
  } catch (error) {
    if (!(error instanceof Corrupt)) throw error;
    return refuse('a complete C3TL model file', `damaged content: ${error.message}`);
  }
}
