import { describe, expect, it } from 'vitest';
import { formatMtx, openMtx } from '../../../../src/core/data/mtx';
import { geneOverlap } from '../../../../src/core/data/overlap';
import { pseudobulk } from '../../../../src/core/data/pseudobulk';
import { simulate } from '../../../../src/core/simulate/simulator';
import { cellTable, cellsAsData, simulateCells } from '../../../../src/core/simulate/single-cell';
import { gzip, memoryFile } from '../../../fixtures/files';
import type { InputFile } from '../../../../src/core/data/load';

const OPTIONS = { contextColumn: 'context', perturbationColumn: 'perturbation', controls: ['control'] };

function folder(files: Record<string, string>, gz: readonly string[] = []): InputFile[] {
  return Object.entries(files).map(([name, text]) =>
    gz.includes(name) ? memoryFile(`${name}.gz`, gzip(text), 997) : memoryFile(name, text, 997),
  );
}

const FEATURES =
  'ENSG01.3\tA\tGene Expression\nENSG02.1\tB\tGene Expression\nsg1\tsg1\tCRISPR Guide Capture\n';
const BARCODES = 'AAA-1\nCCC-1\n';
const MATRIX = '%%MatrixMarket matrix coordinate integer general\n%c\n3 2 4\n1 1 5\n3 1 9\n2 2 7\n1 2 1\n';

describe('10x Matrix Market folders', () => {
  it('simulated cells written as 10x and read back pseudo-bulk to the same effects', async () => {
    const sim = simulate({ contexts: 2, perturbations: 3, genes: 80, seed: 5 });
    const cells = simulateCells(sim, { cellsPerPair: 30 });
    const text = formatMtx(cellTable(cells));
    const files = folder(
      {
        'matrix.mtx': text.matrix,
        'barcodes.tsv': text.barcodes,
        'features.tsv': text.features,
        'cells.csv': text.cells,
      },
      ['matrix.mtx', 'barcodes.tsv', 'features.tsv'],
    );
    const opened = await openMtx(files, 'sim10x');
    if (!opened.ok) throw new Error(opened.error.message);
    expect(opened.data.data.obs.map((c) => c.name)).toEqual(['context', 'perturbation']);
    const viaMtx = await pseudobulk(opened.data.data, { ...OPTIONS, minDetectedFraction: 0 });
    const direct = await pseudobulk(cellsAsData(cells, 'direct'), { ...OPTIONS, minDetectedFraction: 0 });
    if (!viaMtx.ok || !direct.ok) throw new Error('pseudo-bulk failed');
    expect(viaMtx.data.part.tensor.genes).toEqual(direct.data.part.tensor.genes);
    expect(Array.from(viaMtx.data.part.tensor.values)).toEqual(Array.from(direct.data.part.tensor.values));
  });

  it('keeps only Gene Expression features and streams runs per barcode', async () => {
    const opened = await openMtx(
      folder({ 'matrix.mtx': MATRIX, 'barcodes.tsv': BARCODES, 'features.tsv': FEATURES }),
      'tiny',
    );
    if (!opened.ok) throw new Error(opened.error.message);
    const { data, notes } = opened.data;
    expect(data.genes).toEqual(['ENSG01.3', 'ENSG02.1']);
    expect(notes[0]).toMatch(/1 feature that are not Gene Expression \(CRISPR Guide Capture\)/);
    const seen: string[] = [];
    await data.scan((cell, genes, counts, n) => {
      for (let i = 0; i < n; i++) seen.push(`${data.cellNames[cell]}:${data.genes[genes[i]]}=${counts[i]}`);
    });
    expect(seen).toEqual(['AAA-1:ENSG01.3=5', 'CCC-1:ENSG02.1=7', 'CCC-1:ENSG01.3=1']);
  });

  it('Ensembl versions match without the suffix; few shared genes are counted, shown and explained', () => {
    expect(
      geneOverlap([
        { file: 'a', genes: ['ENSG01.3', 'ENSG02.1'] },
        { file: 'b', genes: ['ENSG01', 'ENSG02.7'] },
      ]),
    ).toEqual({ shared: 2 });
    const few = geneOverlap([
      { file: 'a.h5ad', genes: ['ENSG01', 'ENSG02', 'ENSG03', 'TP53'] },
      { file: 'b.csv', genes: ['TP53', 'MYC', 'GAPDH', 'ACTB'] },
    ]);
    expect(few.shared).toBe(1);
    expect(few.message).toMatch(
      /share 1 genes .*only in a\.h5ad: "ENSG01".*only in b\.csv: "MYC".*Ensembl ID, the other by symbol/,
    );
  });

  it.each<[string, Record<string, string>, RegExp]>([
    [
      'matrix dimensions disagree with features.tsv',
      { 'matrix.mtx': MATRIX.replace('3 2 4', '4 2 4'), 'barcodes.tsv': BARCODES, 'features.tsv': FEATURES },
      /^matrix\.mtx, line 3: expected 3 rows \(one per line of features\.tsv\), found a matrix of 4 features x 2 barcodes/,
    ],
    [
      'matrix dimensions disagree with barcodes.tsv',
      { 'matrix.mtx': MATRIX, 'barcodes.tsv': 'AAA-1\n', 'features.tsv': FEATURES },
      /^matrix\.mtx, line 3: expected 1 column \(one per line of barcodes\.tsv\)/,
    ],
    [
      'truncated matrix',
      {
        'matrix.mtx': MATRIX.split('\n').slice(0, 5).join('\n'),
        'barcodes.tsv': BARCODES,
        'features.tsv': FEATURES,
      },
      /^matrix\.mtx, line 3: expected 4 entries, as the size line says, found 2: the file ends early/,
    ],
    [
      'fractional count',
      {
        'matrix.mtx': MATRIX.replace('2 2 7', '2 2 0.5'),
        'barcodes.tsv': BARCODES,
        'features.tsv': FEATURES,
      },
      /^matrix\.mtx, line 6, column 3: expected a whole, non-negative count \(feature "ENSG02\.1", barcode "CCC-1"\)/,
    ],
    [
      'coordinate out of range',
      { 'matrix.mtx': MATRIX.replace('2 2 7', '2 3 7'), 'barcodes.tsv': BARCODES, 'features.tsv': FEATURES },
      /^matrix\.mtx, line 6: expected "feature barcode value" with feature 1\.\.3 and barcode 1\.\.2/,
    ],
    [
      'missing barcodes',
      { 'matrix.mtx': MATRIX, 'features.tsv': FEATURES },
      /^tiny: expected a 10x folder with matrix\.mtx, barcodes\.tsv and features\.tsv .*found no barcodes\.tsv/,
    ],
    [
      'not a Matrix Market file',
      { 'matrix.mtx': 'hello\n', 'barcodes.tsv': BARCODES, 'features.tsv': FEATURES },
      /^matrix\.mtx, line 1: expected the banner/,
    ],
  ])('%s', async (_name, files, message) => {
    const opened = await openMtx(folder(files), 'tiny');
    const result = opened.ok
      ? await opened.data.data
          .scan(() => undefined)
          .then(
            () => ({ ok: true as const }),
            (e: { error?: { message: string } }) => ({
              ok: false as const,
              error: e.error ?? { message: String(e) },
            }),
          )
      : opened;
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(message);
  });
});
