import { beforeAll, describe, expect, it } from 'vitest';
import { writeH5ad } from '../../src/core/data/h5ad-write';
import { formatMtx } from '../../src/core/data/mtx';
import { simulate } from '../../src/core/simulate/simulator';
import { simulateCells } from '../../src/core/simulate/single-cell';
import { installNodeH5Plugins } from '../../src/cli/h5-plugins';
import type { PseudobulkChoice } from '../../src/worker/api-types';
import { createEngine } from '../../src/worker/engine';

beforeAll(() => installNodeH5Plugins());

const sim = simulate({ contexts: 3, perturbations: 5, genes: 80, seed: 2, counts: false });
const cells = simulateCells(sim, { cellsPerPair: 12, seed: 2 });
const table = {
  genes: cells.genes,
  barcodes: cells.barcodes,
  obs: { donor: cells.contexts, treatment: cells.perturbations.map((p) => (p === 'control' ? 'DMSO' : p)) },
  indptr: cells.indptr,
  indices: cells.indices,
  data: cells.data,
};
const CHOICE: PseudobulkChoice = {
  contextColumn: 'donor',
  perturbationColumn: 'treatment',
  controls: ['DMSO'],
  minCells: 10,
};

describe('engine: single-cell drops', () => {
  it('opens an .h5ad, previews cells per pair, pseudo-bulks it into the dataset, and reset forgets it', async () => {
    const engine = createEngine();
    const file = new File([new Uint8Array(await writeH5ad(table))], 'drop.h5ad');
    const opened = await engine.openCells([file]);
    if (!opened.ok) throw new Error(opened.error.message);
    expect(opened.cells).toMatchObject({ cells: 3 * 6 * 12, genes: 80, counts: 'X' });
    expect(opened.cells.guess).toEqual({ context: 'donor', perturbation: 'treatment', controls: ['DMSO'] });
    expect(opened.cells.columns.find((c) => c.name === 'treatment')?.values).toContain('DMSO');
    expect(engine.previewGroups(CHOICE)).toEqual({
      kept: 15,
      groups: 15,
      min: 12,
      median: 12,
      max: 12,
      contextsWithoutControls: [],
    });
    expect(engine.previewGroups({ ...CHOICE, minCells: 13 }).kept).toBe(0);
    const loaded = await engine.pseudobulk(CHOICE);
    if (!loaded.ok) throw new Error(loaded.error.message);
    expect(loaded.dataset.summary).toMatchObject({ contexts: 3, perturbations: 5, pairs: 15 });
    expect(loaded.dataset.source).toMatch(
      /^drop\.h5ad \(h5ad, 216 cells, pseudo-bulk by donor x treatment\)/,
    );
    await expect(engine.reset()).resolves.toEqual({ hadDataset: true });
    await expect(engine.pseudobulk(CHOICE)).rejects.toThrow(/No single-cell file is open/);
  });

  it('opens dropped 10x files and rejects a bad choice without touching the loaded dataset', async () => {
    const engine = createEngine();
    const text = formatMtx(table);
    const files = [
      new File([text.matrix], 'matrix.mtx'),
      new File([text.barcodes], 'barcodes.tsv'),
      new File([text.features], 'features.tsv'),
      new File([text.cells], 'cells.csv'),
    ];
    const opened = await engine.openCells(files);
    if (!opened.ok) throw new Error(opened.error.message);
    expect(opened.cells.format).toBe('mtx');
    const bad = await engine.pseudobulk({ ...CHOICE, controls: ['NT'] });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/column "treatment": expected cells labelled "NT"/);
    const good = await engine.pseudobulk(CHOICE);
    expect(good.ok).toBe(true);
  });
});
