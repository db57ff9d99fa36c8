import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EffectTensor } from '../../../../src/core/data/tensor';
import { formatWideTable } from '../../../../src/core/data/write';
import { evaluateTarget, predictTarget, predictWithModelFile } from '../../../../src/core/eval/protocol';
import type { PredictionResult, TargetEvaluation } from '../../../../src/core/eval/results';
import { evaluationSplit } from '../../../../src/core/eval/split';
import { PARAMETER_NAMES } from '../../../../src/core/model/c3tl';
import {
  base64ToFloat32,
  checkModelAgainst,
  datasetHash,
  encodeModelFile,
  float32ToBase64,
  MODEL_FORMAT_VERSION,
  type ModelFile,
} from '../../../../src/core/model/model-file';
import { decodeModelFile } from '../../../../src/core/model/model-file-decode';
import { DEFAULT_TRAIN_OPTIONS, trainC3tl, type TrainOptions } from '../../../../src/core/model/train';

const FIXTURES = join('tests', 'fixtures');
import { simulate } from '../../../../src/core/simulate/simulator';

const dense = simulate({ contexts: 4, perturbations: 40, genes: 120, seed: 3, counts: false }).tensor;
const sparse = simulate({
  contexts: 3,
  perturbations: 30,
  genes: 80,
  seed: 5,
  observedFraction: 0.7,
  counts: false,
}).tensor;
const run = { supportFraction: 0.25, seed: 1, preset: 'small' as const, geneLimit: 100, maxEpochs: 3 };

function decoded(text: string | undefined): ModelFile {
  expect(text).toBeDefined();
  const result = decodeModelFile(text ?? '');
  if (!result.ok) throw new Error(result.error.message);
  return result.data;
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** The sparse screen's target with unmeasured perturbations that still has support. */
function predictableTarget(t: EffectTensor): number {
  const P = t.perturbations.length;
  return t.contexts.findIndex((_, c) => {
    let measured = 0;
    for (let p = 0; p < P; p++) measured += t.observed[c * P + p];
    return measured < P && measured > 4;
  });
}

let evaluation: TargetEvaluation;
let prediction: PredictionResult;
beforeAll(async () => {
  await tf.setBackend('cpu');
  evaluation = await evaluateTarget(dense, 1, run, {}, { keepModelFile: true });
  const { supportFraction: _f, ...options } = run;
  prediction = await predictTarget(
    sparse,
    predictableTarget(sparse),
    { ...options, geneLimit: 50 },
    {},
    {
      keepModelFile: true,
    },
  );
});

describe('model file encoding', () => {
  it('round-trips float32 values exactly through little-endian base64', () => {
    const values = Float32Array.from([0, -0, 1.5, -3.25e-7, 3.4e38, Number.NaN, Infinity]);
    const back = base64ToFloat32(float32ToBase64(values));
    expect(Array.from(back)).toEqual(Array.from(values));
    // 1.0f is 0x3f800000, little-endian bytes 00 00 80 3f.
    expect(float32ToBase64(Float32Array.of(1))).toBe(btoa('\x00\x00\x80\x3f'));
  });

  it('holds every part of the run and decodes to the same content', () => {
    const model = decoded(evaluation.modelFile);
    expect(model).toMatchObject({
      format: 'c3tl-model',
      formatVersion: MODEL_FORMAT_VERSION,
      target: dense.contexts[1],
      mode: 'evaluate',
      query: evaluation.queryPerturbations,
      settings: { seed: 1, preset: 'small', supportFraction: 0.25, geneLimit: 100, maxEpochs: 3 },
      dataset: { contexts: 4, perturbations: 40, genes: 120 },
      architecture: { preset: 'small', genes: 100 },
      versions: { tfjs: tf.version_core },
    });
    expect(model.preprocessing.genes).toEqual(evaluation.genes);
    expect(model.preprocessing.sparseBase).toBe(evaluation.train.sparseBase);
    expect(model.transfer?.withoutSlope).toBe(evaluation.train.transfer?.withoutSlope);
    expect(model.transfer?.withoutSlope).toEqual(expect.any(Boolean));
    expect(model.transfer?.robustShift).toBe(true);
    expect(model.support.train.length + model.support.validation.length).toBe(evaluation.support);
    expect(model.dataset.sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const name of PARAMETER_NAMES) expect(model.weights[name].length, name).toBeGreaterThan(0);
    const again = decoded(encodeModelFile(model));
    expect(again).toEqual(model);
  });

  it('hashes the names, values and mask of a dataset', async () => {
    const hash = await datasetHash(dense);
    expect(await datasetHash({ ...dense, values: dense.values.slice() })).toBe(hash);
    const values = dense.values.slice();
    values[7] += 1;
    expect(await datasetHash({ ...dense, values })).not.toBe(hash);
    const observed = dense.observed.slice();
    observed[0] = 0;
    expect(await datasetHash({ ...dense, observed })).not.toBe(hash);
    expect(await datasetHash({ ...dense, genes: dense.genes.map((g) => `${g}x`) })).not.toBe(hash);
  });
});

describe('decodeModelFile refusals', () => {
  const text = () => evaluation.modelFile ?? '';
  const edit = (change: (json: Record<string, unknown>) => void) => {
    const json = JSON.parse(text()) as Record<string, unknown>;
    change(json);
    return JSON.stringify(json);
  };
  it.each([
    [
      'a newer format version',
      () => edit((j) => (j.formatVersion = MODEL_FORMAT_VERSION + 1)),
      new RegExp(`version ${MODEL_FORMAT_VERSION + 1}, written by a newer C3TL Studio`),
    ],
    [
      'another kind of file',
      () => edit((j) => (j.format = 'c3tl-studio/reproducibility-record')),
      /another kind of file \(format "c3tl-studio\/reproducibility-record"\)/,
    ],
    ['text that is not JSON', () => 'context,perturbation,G1\n', /not JSON/],
    ['a truncated file', () => text().slice(0, text().length / 2), /not JSON/],
    [
      'a weight of the wrong size',
      () =>
        edit((j) => {
          const w = (j.weights as Record<string, { data: string }>).shift_gate;
          w.data = w.data.slice(0, 16);
        }),
      /damaged content: "weights\.shift_gate\.data" holds 3 values where 100 were expected/,
    ],
    [
      'a missing field',
      () => edit((j) => delete j.target),
      /damaged content: "target" should be a context name/,
    ],
    [
      'a transfer path without its sparseMix flag',
      () => edit((j) => delete (j.transfer as Record<string, unknown>).sparseMix),
      /damaged content: "transfer\.sparseMix" should be true or false/,
    ],
    [
      'a transfer path without its withoutSlope flag',
      () => edit((j) => delete (j.transfer as Record<string, unknown>).withoutSlope),
      /damaged content: "transfer\.withoutSlope" should be true or false/,
    ],
    [
      'a transfer path without its robustShift flag',
      () => edit((j) => delete (j.transfer as Record<string, unknown>).robustShift),
      /damaged content: "transfer\.robustShift" should be true or false/,
    ],
    [
      'a file without the sparseBase flag',
      () => edit((j) => delete (j.preprocessing as Record<string, unknown>).sparseBase),
      /damaged content: "preprocessing\.sparseBase" should be true or false/,
    ],
    ['bytes that are not UTF-8', () => Uint8Array.of(0xff, 0xfe, 0x00), /not UTF-8/],
  ])('refuses %s', (_what, input, message) => {
    const result = decodeModelFile(input(), 'model.c3tl.json');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.message).toMatch(message);
      expect(result.error.message.startsWith('model.c3tl.json: ')).toBe(true);
    }
  });
});

describe('checkModelAgainst', () => {
  it('accepts the training data without notes and notes a changed dataset', async () => {
    const model = decoded(evaluation.modelFile);
    const same = await checkModelAgainst(dense, model);
    expect(same).toEqual({ ok: true, data: { target: 1 }, notes: [] });
    const values = dense.values.slice();
    values[3] += 0.5;
    const changed = await checkModelAgainst({ ...dense, values }, model);
    expect(changed.ok && changed.notes[0]).toMatch(/differs from the one the model was trained on/);
  });

  it.each([
    [
      'a dataset with another gene set',
      (t: EffectTensor) => ({ ...t, genes: t.genes.map((g, i) => (i < 37 ? `other${i}` : g)) }),
      /trained on 100 genes\), found a dataset that lacks \d+ of them, e\.g\. "/,
    ],
    [
      'a dataset without the target',
      (t: EffectTensor) => ({ ...t, contexts: t.contexts.map((c, i) => (i === 1 ? 'renamed' : c)) }),
      /the model's target context "ctx02"/,
    ],
    [
      'a dataset without the support',
      (t: EffectTensor) => ({ ...t, perturbations: t.perturbations.map((p) => `${p}_new`) }),
      /support perturbations measured in "ctx02", found \d+ missing there/,
    ],
  ])('refuses %s', async (_what, change, message) => {
    const model = decoded(evaluation.modelFile);
    const result = await checkModelAgainst(change(dense), model);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(message);
    await expect(predictWithModelFile(change(dense), model)).rejects.toThrow(message);
  });
});

describe('predictWithModelFile (cpu)', () => {
  it('restores an evaluate-mode model: the same held-out predictions and metrics without training', async () => {
    const restored = await predictWithModelFile(dense, decoded(evaluation.modelFile));
    if (restored.mode !== 'evaluate') throw new Error('expected an evaluation');
    const r = restored.evaluation;
    expect(r.queryPerturbations).toEqual(evaluation.queryPerturbations);
    expect(r.genes).toEqual(evaluation.genes);
    expect(r.train.epochs).toBe(0);
    expect(maxDifference(r.predictions.c3tl, evaluation.predictions.c3tl)).toBeLessThan(1e-5);
    expect(r.metrics.c3tl.pearson_centered).toBeCloseTo(evaluation.metrics.c3tl.pearson_centered, 5);
    expect(restored.notes).toEqual([]);
  });

  it('restores a predict-mode model: the same predictions of the unmeasured perturbations', async () => {
    const restored = await predictWithModelFile(sparse, decoded(prediction.modelFile));
    if (restored.mode !== 'predict') throw new Error('expected a prediction');
    expect(restored.prediction.perturbations).toEqual(prediction.perturbations);
    expect(restored.prediction.genes).toEqual(prediction.genes);
    expect(maxDifference(restored.prediction.predictions.c3tl, prediction.predictions.c3tl)).toBeLessThan(
      1e-5,
    );
  });

  it('applies a model to a dataset with more genes (its own genes picked by name)', async () => {
    const model = decoded(evaluation.modelFile);
    const extra = 5;
    const G = dense.genes.length;
    const values = new Float32Array((G + extra) * 160);
    for (let pair = 0; pair < 160; pair++)
      values.set(dense.values.subarray(pair * G, (pair + 1) * G), pair * (G + extra));
    const wider = {
      ...dense,
      genes: [...dense.genes, ...Array.from({ length: extra }, (_, i) => `X${i}`)],
      values,
    };
    const restored = await predictWithModelFile(wider, model);
    if (restored.mode !== 'evaluate') throw new Error('expected an evaluation');
    expect(restored.notes).toHaveLength(1);
    expect(maxDifference(restored.evaluation.predictions.c3tl, evaluation.predictions.c3tl)).toBeLessThan(
      1e-5,
    );
  });

  it('rebuilds a model with the learnt network from initialWeights (maxEpochs 0)', async () => {
    const split = evaluationSplit(dense, 2, { supportFraction: 0.2, seed: 4 });
    const options: TrainOptions = {
      ...DEFAULT_TRAIN_OPTIONS,
      preset: 'small',
      seed: 9,
      maxEpochs: 2,
      patience: 100,
      genesPerStep: 50,
      switches: { network: true },
    };
    const support = [...split.supportTrain, ...split.supportVal];
    const trained = await trainC3tl(dense, split, options);
    const expected = (await trained.predict(support, split.query)).c3tl;
    const weights = await trained.weights();
    const transferWeights = await trained.transferWeights();
    const features = trained.transfer?.features;
    const sparseMix = trained.transfer?.sparseMix ?? false;
    const withoutSlope = trained.transfer?.withoutSlope ?? false;
    const robustShift = trained.transfer?.robustShift ?? false;
    const standardisation = trained.standardisation;
    const sparseBase = trained.sparseBase;
    trained.dispose();
    if (!transferWeights || !features) throw new Error('The transfer path is on by default.');
    const before = tf.memory().numTensors;
    const rebuilt = await trainC3tl(dense, split, {
      ...options,
      maxEpochs: 0,
      initialWeights: weights,
      initialTransfer: { features, weights: transferWeights, sparseMix, withoutSlope, robustShift },
      standardisation,
      sparseBase,
    });
    expect(rebuilt.history).toEqual([]);
    expect(maxDifference((await rebuilt.predict(support, split.query)).c3tl, expected)).toBeLessThan(1e-5);
    expect(Array.from((await rebuilt.weights()).gain_w)).toEqual(Array.from(weights.gain_w));
    rebuilt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('CLI --save-model and --model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'c3tl-model-'));
  const c3tl = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: r.status, stderr: r.stderr };
  };
  /** Rows of a predictions table: header, then name columns and numbers. */
  const table = (path: string) =>
    readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(','));
  const expectSameTable = (a: string, b: string) => {
    const [ta, tb] = [table(a), table(b)];
    expect(tb[0]).toEqual(ta[0]);
    expect(tb.map((r) => r.slice(0, 2))).toEqual(ta.map((r) => r.slice(0, 2)));
    for (let i = 1; i < ta.length; i++)
      for (let j = 2; j < ta[i].length; j++)
        expect(Math.abs(Number(ta[i][j]) - Number(tb[i][j]))).toBeLessThan(1e-5);
  };
  const data = join(dir, 'sparse.csv');
  writeFileSync(data, formatWideTable(sparse, { delimiter: ',' }));
  const target = sparse.contexts[predictableTarget(sparse)];

  it('predict --model gives the table of the predict that trained and saved it, without training', () => {
    const model = join(dir, 'predict.c3tl.json');
    const trained = join(dir, 'trained.csv');
    const common = ['--data', data, '--genes', '50', '--max-epochs', '2'];
    const first = c3tl('predict', ...common, '--target', target, '--out', trained, '--save-model', model);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/Wrote the model to/);
    const restored = join(dir, 'restored.csv');
    const second = c3tl('predict', '--data', data, '--model', model, '--out', restored);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/note:/);
    expectSameTable(trained, restored);
  });

  it('evaluate --save-model writes a model whose held-out predictions predict --model gives back', () => {
    const effects = join(dir, 'dense.csv');
    writeFileSync(effects, formatWideTable(dense, { delimiter: ',' }));
    const model = join(dir, 'evaluate.c3tl.json');
    const r = c3tl(
      'evaluate',
      '--data',
      effects,
      '--target',
      'ctx02',
      '--genes',
      '100',
      '--max-epochs',
      '2',
      '--support',
      '0.25',
      '--save-model',
      model,
    );
    expect(r.code, r.stderr).toBe(0);
    const saved = decoded(readFileSync(model, 'utf8'));
    expect(saved).toMatchObject({ mode: 'evaluate', target: 'ctx02', settings: { supportFraction: 0.25 } });
    const out = join(dir, 'heldout.csv');
    const p = c3tl('predict', '--data', effects, '--model', model, '--out', out);
    expect(p.code, p.stderr).toBe(0);
    expect(
      table(out)
        .slice(1)
        .map((row) => row[1]),
    ).toEqual(saved.query);
    expect(c3tl('evaluate', '--data', effects, '--save-model', model).stderr).toMatch(/needs one --target/);
  });

  it('refuses a model for a dataset with another gene set, with the reason', () => {
    const model = join(dir, 'predict.c3tl.json');
    const renamed = join(dir, 'renamed.csv');
    writeFileSync(
      renamed,
      formatWideTable({ ...sparse, genes: sparse.genes.map((g) => `${g}_v2`) }, { delimiter: ',' }),
    );
    const r = c3tl('predict', '--data', renamed, '--model', model, '--out', join(dir, 'never.csv'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /error: predict\.c3tl\.json: expected a dataset with the model's genes \(the model was trained on 50 genes\), found a dataset that lacks 50 of them/,
    );
  });
});

describe.each([
  {
    version: 2,
    what: 'before the reference mix',
    note: /note: Model format version 2: .*without the mix/,
    switches: { transfer: true, mix: false, linear: false },
  },
  {
    version: 3,
    what: 'before the sparse-denoised mix',
    note: /note: Model format version 3: .*reads the raw effects/,
    switches: { transfer: true, mix: true, linear: true },
  },
  {
    version: 4,
    what: 'before the sparse-denoised means',
    note: /note: Model format version 4: .*read the observed effects/,
    switches: { transfer: true, mix: true, linear: true },
  },
  {
    version: 5,
    what: 'before the slope-free fixed form',
    note: /note: Model format version 5: .*sits on the whole fixed form/,
    switches: { transfer: true, mix: true, linear: true },
  },
  {
    version: 6,
    what: 'before the robust shift',
    note: /note: Model format version 6: .*leaves that shift as it did then/,
    switches: { transfer: true, mix: true, linear: true },
  },
])('model files of format $version ($what)', ({ version, note, switches }) => {
  const fixture = (name: string) => join(FIXTURES, `v${version}`, name);
  const model = `format${version}.c3tl.json`;

  it('are read as they predicted then, with a note that says so', () => {
    const result = decodeModelFile(readFileSync(fixture(model), 'utf8'), model);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.data.formatVersion).toBe(MODEL_FORMAT_VERSION);
    expect(result.data.architecture.switches).toMatchObject(switches);
    if (version < 4) expect(result.data.transfer?.sparseMix).toBe(false);
    if (version < 5) expect(result.data.preprocessing.sparseBase).toBe(false);
    if (version < 6) expect(result.data.transfer?.withoutSlope).toBe(false);
    expect(result.data.transfer?.robustShift).toBe(false);
    expect(`note: ${result.notes.join(' ')}`).toMatch(note);
  });

  it('predict what they predicted when they were written (stored predictions of that version)', () => {
    const dir = mkdtempSync(join(tmpdir(), `c3tl-format${version}-`));
    const out = join(dir, 'predicted.csv');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'predict',
        '--data',
        join(FIXTURES, 'v2', 'screen.csv'),
        '--target',
        'ctx01',
        '--model',
        fixture(model),
        '--out',
        out,
        '--backend',
        'cpu',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(note);
    const rows = (path: string) =>
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(','));
    const [now, then] = [rows(out), rows(fixture(`format${version}-predicted.csv`))];
    expect(now.map((row) => row.slice(0, 2))).toEqual(then.map((row) => row.slice(0, 2)));
    const gap = Math.max(
      ...now.slice(1).flatMap((row, i) => row.slice(2).map((v, j) => Math.abs(+v - +then[i + 1][j + 2]))),
    );
    expect(gap).toBeLessThan(1e-5);
  });
});

describe('model files of format 1 (before the transfer path)', () => {
  it('are refused with a message that says why and what to do', () => {
    const text = readFileSync(join(FIXTURES, 'v1', 'evaluate-format1.c3tl.json'), 'utf8');
    const result = decodeModelFile(text, 'old.c3tl.json');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message).toMatch(
      /^old\.c3tl\.json: expected model format version 2 or later, found version 1/,
    );
    expect(result.error.message).toMatch(/earlier C3TL Studio/);
    expect(result.error.message).toMatch(/calibrated/);
    expect(result.error.message).toMatch(/Train the model again/);
  });
});
