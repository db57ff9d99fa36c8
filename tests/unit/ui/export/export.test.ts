import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import type { Method } from '../../../../src/core/eval/methods';
import type { MetricValues } from '../../../../src/core/eval/metric-info';
import { METHODS } from '../../../../src/core/eval/methods';
import { METRICS } from '../../../../src/core/eval/metric-info';
import { dataUrlToBlob, fileStem } from '../../../../src/ui/export/download';
import {
  exportableMethods,
  exportFileName,
  metricsTable,
  predictionRows,
  predictionsTable,
} from '../../../../src/ui/export/tables';
import { defaultSessionName, formatDecimalBytes } from '../../../../src/ui/sessions/format';
import type { EvaluationView, PredictionView } from '../../../../src/worker/api-types';

function metrics(offset: number): Record<Method, MetricValues> {
  return Object.fromEntries(
    METHODS.map((method, i) => [
      method,
      Object.fromEntries(METRICS.map((metric, j) => [metric, offset + i / 10 + j / 1000])),
    ]),
  ) as Record<Method, MetricValues>;
}

/** Two held-out perturbations x three genes; C3TL and ridge predictions. */
function evaluation(): EvaluationView {
  const none = {
    history: [],
    backend: 'cpu',
    seconds: 1,
    epochs: 1,
    bestEpoch: 1,
    trainedParameters: 1,
    parameters: 1,
  };
  return {
    context: 'HeLa, "S3"',
    support: 4,
    query: 2,
    metrics: metrics(0.5),
    perPair: Object.fromEntries(METHODS.map((m) => [m, []])) as unknown as Record<Method, MetricValues[]>,
    queryPerturbations: ['KD_A', 'DRUG,1'],
    genes: ['G1', 'G2', 'G\t3'],
    observed: new Float32Array(6),
    bestBaseline: 'ridge',
    predictions: {
      c3tl: Float32Array.from([0.5, -1.25, 0, 1e-7, 2, Number.NaN]),
      ridge: Float32Array.from([1, 2, 3, 4, 5, 6]),
    },
    contextMean: new Float32Array(3),
    train: none,
    warnings: [],
  };
}

function prediction(): PredictionView {
  return {
    context: 'ctx01',
    support: 10,
    perturbations: ['P1', 'P2', 'P3'],
    genes: ['A', 'B'],
    predictions: Float32Array.from([1, 2, 3, 4, 5, 6]),
    train: {
      history: [],
      backend: 'cpu',
      seconds: 1,
      epochs: 1,
      bestEpoch: 1,
      trainedParameters: 1,
      parameters: 1,
    },
  };
}

describe('prediction tables', () => {
  it('lists the methods whose predictions the view holds, C3TL first', () => {
    expect(exportableMethods(evaluation())).toEqual(['c3tl', 'ridge']);
    expect(exportableMethods(prediction())).toEqual(['c3tl']);
  });

  it('writes one row per held-out perturbation with the target context, as CSV a parser reads back', () => {
    const csv = predictionsTable(evaluation(), 'c3tl', ',');
    const parsed = Papa.parse<string[]>(csv.trimEnd(), { delimiter: ',' });
    expect(parsed.errors).toEqual([]);
    expect(parsed.data).toEqual([
      ['context', 'perturbation', 'G1', 'G2', 'G\t3'],
      ['HeLa, "S3"', 'KD_A', '0.5', '-1.25', '0'],
      ['HeLa, "S3"', 'DRUG,1', '1e-7', '2', ''],
    ]);
  });

  it('writes TSV with the same cells, quoting only what holds a tab or quote', () => {
    const tsv = predictionsTable(evaluation(), 'ridge', '\t');
    expect(tsv.split('\n')[0]).toBe('context\tperturbation\tG1\tG2\t"G\t3"');
    const parsed = Papa.parse<string[]>(tsv.trimEnd(), { delimiter: '\t' });
    expect(parsed.errors).toEqual([]);
    expect(parsed.data.slice(1)).toEqual([
      ['HeLa, "S3"', 'KD_A', '1', '2', '3'],
      ['HeLa, "S3"', 'DRUG,1', '4', '5', '6'],
    ]);
  });

  it('writes prediction mode (C3TL only) for every predicted perturbation', () => {
    const lines = predictionsTable(prediction(), 'c3tl', ',').trimEnd().split('\n');
    expect(lines).toEqual(['context,perturbation,A,B', 'ctx01,P1,1,2', 'ctx01,P2,3,4', 'ctx01,P3,5,6']);
  });

  it('refuses a method the view has no predictions of, and mismatched sizes', () => {
    expect(() => predictionRows(evaluation(), 'knn_residual')).toThrow(/no predictions of knn_residual/);
    expect(() => predictionRows(prediction(), 'ridge')).toThrow(/no predictions of ridge/);
    const bad = { ...prediction(), predictions: new Float32Array(5) };
    expect(() => predictionRows(bad, 'c3tl')).toThrow(/5 predicted values for 3 pairs x 2 genes/);
  });

  it('rows are views into the predictions, not copies', () => {
    const view = prediction();
    const rows = predictionRows(view, 'c3tl');
    expect((rows[1].values as Float32Array).buffer).toBe(view.predictions.buffer);
  });
});

describe('metricsTable', () => {
  it('has the target, split sizes and one row per method with every metric', () => {
    const view = evaluation();
    const parsed = Papa.parse<string[]>(metricsTable(view).trimEnd());
    expect(parsed.errors).toEqual([]);
    const [header, ...rows] = parsed.data;
    expect(header).toEqual(['context', 'support', 'query', 'method', ...METRICS]);
    expect(rows.map((r) => r[3])).toEqual([...METHODS]);
    for (const row of rows) {
      expect(row.slice(0, 3)).toEqual(['HeLa, "S3"', '4', '2']);
      const method = row[3] as Method;
      METRICS.forEach((metric, j) => expect(Number(row[4 + j])).toBeCloseTo(view.metrics[method][metric], 9));
    }
  });

  it('leaves a metric that could not be computed empty', () => {
    const view = evaluation();
    view.metrics.ridge.pearson = Number.NaN;
    const ridge = metricsTable(view).split('\n')[1 + METHODS.indexOf('ridge')].split(',');
    expect(ridge[5 + METRICS.indexOf('pearson')]).toBe('');
  });
});

describe('file names', () => {
  it.each([
    ['ctx01', 'ctx01'],
    ['HeLa S3 / day 2', 'HeLa-S3-day-2'],
    ['../../../', 'c3tl'],
    ['Zelllinie über', 'Zelllinie-uber'],
  ])('fileStem(%j) = %j', (text, stem) => {
    expect(fileStem(text)).toBe(stem);
  });

  it('names exports by what, context and method', () => {
    expect(exportFileName('predictions', 'A549 (lung)', 'tsv', 'c3tl')).toBe(
      'c3tl-predictions-A549-lung-c3tl.tsv',
    );
    expect(exportFileName('metrics', 'ctx02', 'csv')).toBe('c3tl-metrics-ctx02.csv');
  });
});

describe('dataUrlToBlob', () => {
  it('decodes a base64 PNG data URL to its bytes', async () => {
    const bytes = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 255];
    const url = `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;
    const blob = dataUrlToBlob(url);
    expect(blob.type).toBe('image/png');
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual(bytes);
  });

  it('decodes a percent-encoded SVG data URL (what Plotly makes) to its text', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10"><text>50% µ, #1</text></svg>';
    const blob = dataUrlToBlob(`data:image/svg+xml,${encodeURIComponent(svg)}`);
    expect(blob.type).toBe('image/svg+xml');
    expect(await blob.text()).toBe(svg);
  });

  it('says so when it is not a data URL', () => {
    expect(() => dataUrlToBlob('blob:http://x/1')).toThrow(/not a data: URL/);
  });
});

describe('sessions list text', () => {
  it.each([
    [0, '0 bytes'],
    [1, '1 byte'],
    [999, '999 bytes'],
    [1000, '1 kB'],
    [7_312_345, '7.31 MB'],
    [1_020_000_000, '1.02 GB'],
    [Number.NaN, '–'],
  ])('formatDecimalBytes(%d) = %s', (bytes, text) => {
    expect(formatDecimalBytes(bytes)).toBe(text);
  });

  it('names a session by target, mode and local time', () => {
    expect(defaultSessionName('ctx03', 'evaluate', new Date(2026, 0, 2, 14, 5))).toBe(
      'ctx03, evaluate, 2026-01-02 14:05',
    );
    expect(defaultSessionName(undefined, 'predict', new Date(2026, 11, 31, 9, 0))).toBe(
      'predict, 2026-12-31 09:00',
    );
  });
});
