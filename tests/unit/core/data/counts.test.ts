import { describe, expect, it } from 'vitest';
import { loadDataset, type InputFile, type LoadedDataset } from '../../../../src/core/data/load';
import { pairEffect } from '../../../../src/core/data/tensor';
import { formatCountsMatrix, formatSampleSheet } from '../../../../src/core/data/write';
import { simulate } from '../../../../src/core/simulate/simulator';
import { memoryFile } from '../../../fixtures/files';

async function loadOk(files: InputFile[]): Promise<LoadedDataset> {
  const result = await loadDataset(files);
  if (!result.ok) throw new Error(`expected success, got: ${result.error.message}`);
  return result.data;
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

// Genes x samples; G3 is never expressed and must be filtered.
const SAMPLES = ['a_c', 'a_t1', 'a_t2', 'b_c', 'b_t', 'b_u'];
const COUNTS = [
  [10, 30, 10, 40, 15, 22],
  [90, 70, 90, 60, 85, 78],
  [0, 0, 0, 0, 0, 0],
];
const matrixText = (d = '\t'): string =>
  [['gene', ...SAMPLES], ...COUNTS.map((row, g) => [`G${g + 1}`, ...row.map(String)])]
    .map((r) => r.join(d))
    .join('\n') + '\n';
const SHEET_ROWS = [
  ['a_c', 'A', 'DMSO'],
  ['a_t1', 'A', 'drugX'],
  ['a_t2', 'A', 'drugX'],
  ['b_c', 'B', 'Vehicle'],
  ['b_t', 'B', 'drugX'],
  ['b_u', 'B', 'drugY'],
];
const sheetText = (header = 'sample,cell_line,drug', rows = SHEET_ROWS): string =>
  [header, ...rows.map((r) => r.join(','))].join('\n') + '\n';

/** The documented pipeline written out plainly: CPM, log2(CPM + 1), means, treated - control. */
function expectedLog(gene: number, sample: string): number {
  const s = SAMPLES.indexOf(sample);
  const library = COUNTS.reduce((sum, row) => sum + row[s], 0);
  return Math.log2((COUNTS[gene][s] / library) * 1e6 + 1);
}

describe('counts matrix + sample sheet', () => {
  it('computes log2(CPM+1) effects against the controls of each context, with basal expression', async () => {
    for (const [matrix, sheet] of [
      [memoryFile('counts.tsv', matrixText()), memoryFile('samples.csv', sheetText())],
      [memoryFile('samples.csv', sheetText()), memoryFile('counts.tsv', matrixText())],
    ]) {
      const data = await loadOk([matrix, sheet]);
      const t = data.tensor;
      expect(t.contexts).toEqual(['A', 'B']);
      expect(t.perturbations).toEqual(['drugX', 'drugY']);
      expect(t.genes).toEqual(['G1', 'G2']);
      expect(Array.from(t.observed)).toEqual([1, 0, 1, 1]);
      expect(Array.from(t.replicates)).toEqual([2, 0, 1, 1]);
      for (let g = 0; g < 2; g++) {
        const aControl = expectedLog(g, 'a_c');
        expect(pairEffect(t, 0, 0)[g]).toBeCloseTo(
          (expectedLog(g, 'a_t1') + expectedLog(g, 'a_t2')) / 2 - aControl,
          5,
        );
        expect(pairEffect(t, 1, 1)[g]).toBeCloseTo(expectedLog(g, 'b_u') - expectedLog(g, 'b_c'), 5);
        expect(t.basal?.[g]).toBeCloseTo(aControl, 5);
        expect(t.basal?.[2 + g]).toBeCloseTo(expectedLog(g, 'b_c'), 5);
      }
      expect(data.notes).toContain('counts.tsv: dropped 1 gene of 3 with mean CPM < 1 (low expression).');
      expect(data.sources.map((s) => s.format).sort()).toEqual(['counts', 'sample-sheet']);
      expect(data.sources.find((s) => s.format === 'sample-sheet')).toMatchObject({
        rows: 6,
        contexts: 2,
        perturbations: 2,
        genes: 0,
      });
    }
  });

  it('recognises controls by an is_control column, ignores unlisted samples and control-only contexts', async () => {
    const rows = [
      ['a_c', 'A', 'untreated', 'yes'],
      ['a_t1', 'A', 'drugX', 'no'],
      ['b_c', 'B', '', '1'],
      ['b_t', 'B', 'drugX', '0'],
      ['b_u', 'C', 'DMSO', ''],
    ];
    const data = await loadOk([
      memoryFile('counts.tsv', matrixText()),
      memoryFile('sheet.csv', sheetText('sample,context,perturbation,is_control', rows)),
    ]);
    expect(data.tensor.contexts).toEqual(['A', 'B']);
    expect(data.tensor.perturbations).toEqual(['drugX']);
    expect(data.notes).toContain('counts.tsv: 1 sample not in the sample sheet ignored: a_t2.');
    expect(data.notes).toContain('counts.tsv + sheet.csv: 1 context with controls only left out: C.');
  });

  it('reads featureCounts and htseq-count output and sums repeated gene rows', async () => {
    const text = [
      '# Program:featureCounts v2.0.1; Command:"featureCounts" ...',
      ['Geneid', 'Chr', 'Start', 'End', 'Strand', 'Length', ...SAMPLES].join('\t'),
      ...COUNTS.map((row, g) => [`G${g + 1}`, 'chr1', '1', '100', '+', '100', ...row.map(String)].join('\t')),
      ['G1', 'chr2', '1', '100', '+', '100', ...COUNTS[0].map(String)].join('\t'),
      ['__no_feature', '', '', '', '', '', '5', '5', '5', '5', '5', '5'].join('\t'),
    ].join('\n');
    const data = await loadOk([memoryFile('fc.txt', text), memoryFile('samples.csv', sheetText())]);
    expect(data.tensor.genes).toEqual(['G1', 'G2']);
    expect(data.notes).toContain('fc.txt: 1 repeated gene row summed into the first.');
    expect(data.notes).toContain('fc.txt: skipped summary rows __no_feature.');
    const doubled = COUNTS.map((row, g) => (g === 0 ? row.map((v) => 2 * v) : row));
    const library = (s: number): number => doubled.reduce((sum, row) => sum + row[s], 0);
    const log = (g: number, s: number): number => Math.log2((doubled[g][s] / library(s)) * 1e6 + 1);
    expect(pairEffect(data.tensor, 1, 1)[0]).toBeCloseTo(log(0, 5) - log(0, 3), 5);
  });

  it('recovers the simulator’s noise-free effects from its counts (ground truth)', async () => {
    // Low dispersion and four replicates: at the simulator's default noise (dispersion 0.05, 3 replicates)
    // even its own measured effects correlate only about 0.8-0.89 with the truth, which says nothing about
    // this pipeline; the exact agreement with those measured effects below is checked at any noise level.
    const sim = simulate({
      contexts: 4,
      perturbations: 30,
      genes: 300,
      seed: 11,
      replicates: 4,
      dispersion: 0.01,
    });
    if (!sim.counts) throw new Error('the simulator kept no counts');
    const data = await loadOk([
      memoryFile('sim_counts.tsv', formatCountsMatrix(sim.counts, { delimiter: '\t' }), 65536),
      memoryFile('sim_sheet.csv', formatSampleSheet(sim.sampleSheet)),
    ]);
    const t = data.tensor;
    const s = sim.tensor;
    expect(t.contexts).toEqual(s.contexts);
    expect(t.perturbations).toEqual(s.perturbations);
    expect(t.genes.length).toBeGreaterThan(0.5 * s.genes.length);
    expect(Array.from(t.observed)).toEqual(Array.from(s.observed));
    const G = s.genes.length;
    const geneIndex = t.genes.map((g) => s.genes.indexOf(g));
    const ours: number[] = [];
    const truth: number[] = [];
    let maxDiff = 0;
    for (let pair = 0; pair < t.observed.length; pair++) {
      if (!t.observed[pair]) continue;
      geneIndex.forEach((g, j) => {
        const v = t.values[pair * t.genes.length + j];
        ours.push(v);
        truth.push(sim.truth[pair * G + g]);
        maxDiff = Math.max(maxDiff, Math.abs(v - s.values[pair * G + g]));
      });
    }
    expect(pearson(ours, truth)).toBeGreaterThan(0.9);
    // Same pipeline as the simulator's own measured effects, up to float32 rounding.
    expect(maxDiff).toBeLessThan(1e-4);
    for (let c = 0; c < t.contexts.length; c++) {
      geneIndex.forEach((g, j) =>
        expect(t.basal?.[c * t.genes.length + j]).toBeCloseTo(s.basal?.[c * G + g] ?? NaN, 4),
      );
    }
  });
});
