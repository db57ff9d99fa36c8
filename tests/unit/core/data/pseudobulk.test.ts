import { describe, expect, it } from 'vitest';
import { guessColumns, pseudobulk, type PseudobulkOptions } from '../../../../src/core/data/pseudobulk';
import {
  MAX_NUMERIC_LABELS,
  columnFromLabels,
  columnFromNumbers,
  distinctValues,
  type SingleCellData,
} from '../../../../src/core/data/single-cell';
import { pearson } from '../../../../src/core/eval/metrics';
import { simulate } from '../../../../src/core/simulate/simulator';
import { cellsAsData, simulateCells } from '../../../../src/core/simulate/single-cell';

const OPTIONS: PseudobulkOptions = {
  contextColumn: 'context',
  perturbationColumn: 'perturbation',
  controls: ['control'],
};

describe('pseudo-bulk of simulated single cells gives back the simulator effect table', () => {
  const sim = simulate({ contexts: 3, perturbations: 24, genes: 300, seed: 3 });
  const cells = simulateCells(sim, { cellsPerPair: 200, umisPerCell: 20000, seed: 2 });

  it('per pair: Pearson >= 0.9 with the noise-free effects wherever they carry signal, and always closer than the bulk table', async () => {
    const result = await pseudobulk(cellsAsData(cells, 'sim'), OPTIONS);
    if (!result.ok) throw new Error(result.error.message);
    const t = result.data.part.tensor;
    const S = sim.tensor;
    expect(t.contexts).toEqual(S.contexts);
    expect(t.perturbations).toEqual(S.perturbations);
    const G = S.genes.length;
    const P = S.perturbations.length;
    const genes = t.genes.map((g) => S.genes.indexOf(g));
    expect(genes.length).toBeGreaterThan(250);
    let strong = 0;
    for (let c = 0; c < S.contexts.length; c++) {
      for (let p = 0; p < P; p++) {
        const k = t.genes.length;
        const ours = t.values.subarray((c * P + p) * k, (c * P + p + 1) * k);
        const truth = genes.map((g) => sim.truth[(c * P + p) * G + g]);
        const bulk = genes.map((g) => S.values[(c * P + p) * G + g]);
        const rms = Math.sqrt(truth.reduce((a, v) => a + v * v, 0) / truth.length);
        // A knockdown of a gene silent in this context changes nothing: no correlation to speak of.
        if (rms === 0) continue;
        const r = pearson(ours, truth);
        // Pairs whose true effects are a few hundredths of log2 are noise at any realistic depth; there the
        // bar is the simulator's own replicate bulk table, which pseudo-bulk must beat.
        expect(r).toBeGreaterThan(pearson(bulk, truth));
        if (rms >= 0.2) {
          strong++;
          expect(r, `${S.contexts[c]} x ${S.perturbations[p]}`).toBeGreaterThanOrEqual(0.9);
        }
      }
    }
    expect(strong).toBeGreaterThanOrEqual(8);
  });

  it('reports cells per group and guesses the columns and the control label', async () => {
    const data = cellsAsData(cells, 'sim');
    expect(guessColumns(data)).toEqual({
      context: 'context',
      perturbation: 'perturbation',
      controls: ['control'],
    });
    const result = await pseudobulk(data, { ...OPTIONS, minCells: 201 });
    expect(result.ok).toBe(false);
    const ok = await pseudobulk(data, OPTIONS);
    if (!ok.ok) throw new Error(ok.error.message);
    expect(ok.data.groups.every((g) => g.cells === 200 && g.kept)).toBe(true);
    expect(ok.data.cellsUsed).toBe(cells.barcodes.length);
  });
});

/** Six cells x two genes with the given obs and counts (one row per cell). */
function tiny(obs: Record<string, string[]>, rows: number[][]): SingleCellData {
  return {
    file: 'tiny.h5ad',
    countsPlace: 'X',
    cells: rows.length,
    cellNames: rows.map((_, i) => `cell${i + 1}`),
    genes: ['A', 'B'],
    obs: Object.entries(obs).map(([name, labels]) => columnFromLabels(name, labels)),
    scan: async (visit) => rows.forEach((r, c) => visit(c, [0, 1], r, 2)),
  };
}

const OBS = {
  cell_line: ['x', 'x', 'x', 'y', 'y', 'y'],
  guide: ['NT', 'g1', 'g2', 'NT', 'g1', 'g2'],
};
const GOOD = [
  [10, 20],
  [30, 5],
  [12, 22],
  [9, 19],
  [25, 8],
  [11, 21],
];

describe('pseudo-bulk rejections name the file and the place', () => {
  it.each<[string, Record<string, string[]>, number[][], Partial<PseudobulkOptions>, RegExp]>([
    [
      'misspelt column',
      OBS,
      GOOD,
      { contextColumn: 'cell_lin' },
      /^tiny\.h5ad, column "cell_lin": expected an obs column for the context \(did you mean "cell_line"\?\), found no such column/,
    ],
    [
      'unknown control label',
      OBS,
      GOOD,
      { controls: ['DMSO'] },
      /column "guide": expected cells labelled "DMSO".*"NT"/,
    ],
    [
      'context without control cells',
      { ...OBS, guide: ['NT', 'g1', 'g2', 'g3', 'g1', 'g2'] },
      GOOD,
      {},
      /column "cell_line": expected at least 1 control cells .* in context "y", found no control cells/,
    ],
    [
      'fractional counts',
      OBS,
      [[1.5, 2], ...GOOD.slice(1)],
      {},
      /column "X": expected whole, non-negative read counts \(cell "cell1", gene "A"\), found 1\.5, a fractional value/,
    ],
    [
      'negative counts',
      OBS,
      [[-1, 2], ...GOOD.slice(1)],
      {},
      /cell "cell1", gene "A"\), found -1, a negative value/,
    ],
  ])('%s', async (_name, obs, rows, options, message) => {
    const result = await pseudobulk(tiny(obs, rows), {
      contextColumn: 'cell_line',
      perturbationColumn: 'guide',
      controls: ['NT'],
      minCells: 1,
      minDetectedFraction: 0,
      ...options,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(message);
  });
});

describe('numeric obs columns', () => {
  it('few distinct numbers become labels; a continuous column is only counted', () => {
    const dose = columnFromNumbers('dose', Float64Array.from([1, 10, 1, Number.NaN]));
    expect(dose).toEqual({ name: 'dose', codes: Int32Array.from([0, 1, 0, -1]), categories: ['1', '10'] });
    const score = columnFromNumbers(
      'score',
      Float64Array.from({ length: MAX_NUMERIC_LABELS + 1 }, (_, i) => i / 7),
    );
    expect(distinctValues(score)).toBe(MAX_NUMERIC_LABELS + 1);
    expect(score.categories).toEqual([]);
    expect(score.codes.every((c) => c === -1)).toBe(true);
  });
});

describe('memory', () => {
  it('refuses group sums beyond the memory budget before reading any count', async () => {
    const data = tiny(OBS, GOOD);
    let scanned = false;
    const result = await pseudobulk(
      {
        ...data,
        scan: async () => {
          scanned = true;
        },
      },
      {
        contextColumn: 'cell_line',
        perturbationColumn: 'guide',
        controls: ['NT'],
        minCells: 1,
        memoryBudgetBytes: 16,
      },
    );
    expect(scanned).toBe(false);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.error.message).toMatch(/within the memory budget of 16 bytes, found 6 groups x 2 genes/);
  });
});
