import { beforeAll, describe, expect, it } from 'vitest';
import { writeH5ad } from '../../../src/core/data/h5ad-write';
import { formatMtx } from '../../../src/core/data/mtx';
import { simulate } from '../../../src/core/simulate/simulator';
import { simulateCells } from '../../../src/core/simulate/single-cell';
import { installNodeH5Plugins } from '../../../src/cli/h5-plugins';
import { formatBinaryBytes } from '../../../src/core/data/failure';
import type { LoadProgress, PseudobulkChoice as Choice } from '../../../src/worker/api-types';
import { createEngine } from '../../../src/worker/engine';
import { memoryStore } from '../../fixtures/session-store';

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
const CHOICE: Choice = {
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

describe('engine: pseudo-bulk progress and cancel', () => {
  const bigger = simulateCells(sim, { cellsPerPair: 60, seed: 3 });
  const text = formatMtx({
    ...table,
    ...bigger,
    obs: { donor: bigger.contexts, treatment: bigger.perturbations },
  });
  const files = () => [
    new File([text.matrix], 'matrix.mtx'),
    new File([text.barcodes], 'barcodes.tsv'),
    new File([text.features], 'features.tsv'),
    new File([text.cells], 'cells.csv'),
  ];
  const choice: Choice = { ...CHOICE, controls: ['control'] };
  const total = bigger.barcodes.length;
  const CHECKSUM = 'Computing SHA-256 checksums of the files';
  /** Saves a session now: it holds whatever the engine's dataset is. */
  const saveNow = (engine: ReturnType<typeof createEngine>) =>
    engine.saveSession('after cancel', {
      setup: {
        mode: 'evaluate',
        target: 0,
        supportPercent: 25,
        seed: 1,
        preset: 'small',
        geneLimit: 0,
        maxEpochs: 2,
      },
      evaluation: null,
      prediction: null,
      sweep: null,
    });
  const cellsOf = (p: LoadProgress) => {
    const m = /^Pseudo-bulking: ([\d,]+) of ([\d,]+) cells$/.exec(p.message);
    if (!m) throw new Error(`unexpected progress: ${p.message}`);
    return [Number(m[1].replace(/,/g, '')), Number(m[2].replace(/,/g, ''))];
  };

  it('reports cells read, never decreasing, ending at the total', async () => {
    const engine = createEngine();
    const opened = await engine.openCells(files());
    if (!opened.ok) throw new Error(opened.error.message);
    const seen: LoadProgress[] = [];
    const loaded = await engine.pseudobulk(choice, (p) => seen.push(p));
    expect(loaded.ok).toBe(true);
    // Cells first, then the checksums of the files for the run record, ending at all their bytes.
    const firstChecksum = seen.findIndex((p) => p.message.startsWith(CHECKSUM));
    expect(firstChecksum).toBeGreaterThan(0);
    const sums = seen.slice(firstChecksum);
    expect(sums.every((p) => p.message.startsWith(CHECKSUM))).toBe(true);
    expect(sums[0].fraction).toBe(0);
    expect(sums.at(-1)?.fraction).toBe(1);
    const bytes = files().reduce((n, f) => n + f.size, 0);
    expect(sums.at(-1)?.message).toBe(
      `${CHECKSUM}: ${formatBinaryBytes(bytes)} of ${formatBinaryBytes(bytes)}`,
    );
    const reads = seen.slice(0, firstChecksum).map((p) => cellsOf(p));
    expect(reads.length).toBeGreaterThan(2);
    expect(reads.every(([, t]) => t === total)).toBe(true);
    expect(reads.every(([r], i) => i === 0 || r > reads[i - 1][0])).toBe(true);
    expect(reads.at(-1)).toEqual([total, total]);
  });

  it('a cancel while the checksums are computed leaves the previous dataset', async () => {
    const engine = createEngine({ sessions: memoryStore() });
    const demo = await engine.loadDemo();
    const opened = await engine.openCells(files());
    if (!opened.ok) throw new Error(opened.error.message);
    const run = engine.pseudobulk(choice, (p) => {
      if (p.message.startsWith(CHECKSUM)) engine.cancel();
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(await saveNow(engine)).toMatchObject({ source: demo.source, contexts: demo.summary.contexts });
  });

  it('a cancel mid-way leaves the previous dataset and the opened file, and a second run succeeds', async () => {
    const store = memoryStore();
    const engine = createEngine({ sessions: store });
    const demo = await engine.loadDemo();
    const opened = await engine.openCells(files());
    if (!opened.ok) throw new Error(opened.error.message);
    const reads: number[] = [];
    const run = engine.pseudobulk(choice, (p) => {
      reads.push(cellsOf(p)[0]);
      if (reads.length === 1) engine.cancel();
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(reads[0]).toBeGreaterThan(0);
    expect(Math.max(...reads)).toBeLessThan(total);
    // The demo is still the dataset: a session saved now holds it, not a half-made pseudo-bulk.
    expect(await saveNow(engine)).toMatchObject({ source: demo.source, contexts: demo.summary.contexts });
    expect(engine.previewGroups(choice).kept).toBe(15);
    const again = await engine.pseudobulk(choice);
    if (!again.ok) throw new Error(again.error.message);
    expect(again.dataset.summary).toMatchObject({ contexts: 3, perturbations: 5, pairs: 15 });
  });
});
