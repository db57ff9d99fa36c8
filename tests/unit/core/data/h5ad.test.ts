import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import h5wasm from 'h5wasm';
import { openH5ad, type H5adSummary } from '../../../../src/core/data/h5ad';
import { h5Module } from '../../../../src/core/data/h5ad-hdf5';
import type { PseudobulkOptions } from '../../../../src/core/data/pseudobulk';
import { openSingleCell, pseudobulkDataset } from '../../../../src/core/data/single-cell-load';
import { writeH5ad } from '../../../../src/core/data/h5ad-write';
import { installNodeH5Plugins } from '../../../../src/cli/h5-plugins';

const ARCHIVES = new URL('../../../../../shared/data/anndata-archives/', import.meta.url).pathname;
const present = existsSync(ARCHIVES);
if (!present) console.warn(`[data-h5ad] ${ARCHIVES} is absent: the real AnnData archive tests are skipped.`);

beforeAll(() => installNodeH5Plugins());

async function summary(version: string): Promise<H5adSummary> {
  const bytes = readFileSync(`${ARCHIVES}${version}/adata.h5ad`);
  const result = await openH5ad({ name: `${version}/adata.h5ad`, bytes });
  if (!result.ok) throw new Error(result.error.message);
  result.data.close();
  return result.data.summary;
}

describe.skipIf(!present)('real AnnData archives (anndata test data)', () => {
  it('0.5: compound obs/var, categories in uns, scaled X and log-normalised raw.X are refused as counts', async () => {
    const s = await summary('v0.5.0');
    expect(s).toMatchObject({ cells: 700, genes: 765 });
    expect(s.obs).toContainEqual({ name: 'bulk_labels', distinct: 10 });
    expect(s.obs).toContainEqual({ name: 'louvain', distinct: 11 });
    expect(s.obs).toContainEqual({ name: 'phase', distinct: 3 });
    expect(s.matrices.map((m) => [m.place, m.storage])).toEqual([
      ['raw.X', 'csr'],
      ['X', 'dense'],
    ]);
    expect(s.counts).toBeUndefined();
    expect(s.lacks[0]).toMatch(
      /no raw counts: raw\.X holds non-integer values .*X holds negative values .*scaled/,
    );
  });

  it.each(['v0.7.0', 'v0.7.8'])(
    '%s: dataframe groups, categorical codes with referenced categories, LZF',
    async (v) => {
      const s = await summary(v);
      expect(s).toMatchObject({ cells: 30, genes: 20, counts: 'raw/X' });
      expect(s.obs.map((c) => c.name)).toEqual(['obs_cat', 'cat_ordered', 'int64', 'float64', 'uint8']);
      expect(s.obs.every((c) => c.distinct > 1 && c.distinct <= 30)).toBe(true);
      expect(s.matrices.find((m) => m.place === 'layers/array')?.verdict).toMatch(/non-integer/);
      expect(s.lacks.join(' ')).toMatch(/context/);
    },
  );

  it('0.7.0 categories resolve to labels through the object reference', async () => {
    const bytes = readFileSync(`${ARCHIVES}v0.7.0/adata.h5ad`);
    const result = await openH5ad({ name: 'v0.7.0', bytes });
    if (!result.ok) throw new Error(result.error.message);
    const column = result.data.data?.obs.find((c) => c.name === 'obs_cat');
    result.data.close();
    expect(column?.categories.length).toBe(22);
    expect(column?.categories.every((c) => /^[A-Za-z]$/.test(c))).toBe(true);
  });

  it('0.11: an empty 10 x 20 object says it has no matrix and no obs columns', async () => {
    const s = await summary('v0.11.4');
    expect(s).toMatchObject({ cells: 10, genes: 20, obs: [], matrices: [] });
    expect(s.lacks.join(' ')).toMatch(/no expression matrix.*10 cells x 20 genes/);
  });

  it('a truncated file is named with the sizes', async () => {
    const bytes = readFileSync(`${ARCHIVES}v0.7.8/adata.h5ad`);
    const result = await openH5ad({ name: 'cut.h5ad', bytes: bytes.subarray(0, 100000) });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/^cut\.h5ad: .*cut off/);
  });
});

describe('h5ad written in the current layout (categorical groups, string arrays, CSR)', () => {
  it('round-trips cells, genes, obs and counts', async () => {
    const bytes = await writeH5ad({
      genes: ['A', 'B', 'C'],
      barcodes: ['c1', 'c2', 'c3', 'c4'],
      obs: { cell_line: ['x', 'x', 'y', 'y'], guide: ['NT', 'g1', 'NT', 'g1'] },
      indptr: Int32Array.from([0, 2, 3, 3, 5]),
      indices: Int32Array.from([0, 2, 1, 0, 1]),
      data: Uint32Array.from([5, 1, 7, 2, 3]),
    });
    const result = await openH5ad({ name: 'small.h5ad', bytes });
    if (!result.ok) throw new Error(result.error.message);
    const { summary: s, data } = result.data;
    expect(s).toMatchObject({ cells: 4, genes: 3, counts: 'X', lacks: [] });
    expect(s.obs).toEqual([
      { name: 'cell_line', distinct: 2 },
      { name: 'guide', distinct: 2 },
    ]);
    const rows: string[] = [];
    await data?.scan((cell, genes, counts, n) => {
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(`${data.genes[genes[i]]}=${counts[i]}`);
      rows.push(`${data.cellNames[cell]}:${parts.join(',')}`);
    });
    result.data.close();
    expect(rows).toEqual(['c1:A=5,C=1', 'c2:B=7', 'c3:', 'c4:A=2,B=3']);
  });
});

async function notAnnData(): Promise<Uint8Array> {
  const module = await h5Module();
  const f = new h5wasm.File('/not-anndata.h5', 'w');
  f.create_group('images').create_dataset({ name: 'pixels', data: new Float32Array([1, 2, 3]) });
  f.close();
  const bytes = module.FS.readFile('/not-anndata.h5');
  module.FS.unlink('/not-anndata.h5');
  return bytes;
}

/** Two contexts x (NT, g1) x 3 cells; `values` replaces the counts (one per cell, gene A). */
async function small(obs: Record<string, string[]>, values?: number[]): Promise<Uint8Array> {
  const cells = obs.cell_line.length;
  return writeH5ad({
    genes: ['A', 'B'],
    barcodes: Array.from({ length: cells }, (_, i) => `c${i + 1}`),
    obs,
    indptr: Int32Array.from({ length: cells + 1 }, (_, i) => 2 * i),
    indices: Int32Array.from({ length: 2 * cells }, (_, i) => i % 2),
    data: Uint32Array.from({ length: 2 * cells }, (_, i) => 5 + (i % 7)),
    ...(values ? { floatData: Float64Array.from({ length: 2 * cells }, (_, i) => values[i >> 1] ?? 1) } : {}),
  });
}

const LINES = ['x', 'x', 'x', 'x', 'y', 'y', 'y', 'y'];
const GUIDES = ['NT', 'NT', 'g1', 'g1', 'NT', 'NT', 'g1', 'g1'];

describe('bad .h5ad inputs: one message naming the file and the place', () => {
  it.each<[string, () => Promise<Uint8Array>, Partial<PseudobulkOptions> & { counts?: string }, RegExp]>([
    [
      'not HDF5',
      async () => new TextEncoder().encode('gene,a\nx,1\n'),
      {},
      /^bad\.h5ad, line 1: expected an HDF5 file/,
    ],
    [
      'HDF5 that is not AnnData',
      notAnnData,
      {},
      /^bad\.h5ad: expected an AnnData file \(HDF5 with top-level obs and var\), found an HDF5 file whose top level holds "images"/,
    ],
    [
      'misspelt column',
      () => small({ cell_line: LINES, guide: GUIDES }),
      { perturbationColumn: 'guides' },
      /^bad\.h5ad, column "guides": expected an obs column for the perturbation \(did you mean "guide"\?\)/,
    ],
    [
      'a context without control cells',
      () => small({ cell_line: LINES, guide: GUIDES.map((g, i) => (i >= 4 ? 'g1' : g)) }),
      {},
      /^bad\.h5ad, column "cell_line": expected at least 2 control cells .* in context "y", found no control cells/,
    ],
    [
      'log-normalised values',
      () => small({ cell_line: LINES, guide: GUIDES }, [1.5]),
      { counts: 'X' },
      /^bad\.h5ad, column "X": expected whole, non-negative read counts \(cell "c1", gene "A"\), found 1\.5, a fractional value/,
    ],
    [
      'negative values',
      () => small({ cell_line: LINES, guide: GUIDES }, [1, -2]),
      { counts: 'X' },
      /^bad\.h5ad, column "X": expected whole, non-negative read counts \(cell "c2", gene "A"\), found -2, a negative value/,
    ],
    [
      'no counts without --counts',
      () => small({ cell_line: LINES, guide: GUIDES }, [1.5]),
      {},
      /^bad\.h5ad: expected a matrix of raw counts to pseudo-bulk, found no raw counts: X holds non-integer values/,
    ],
  ])('%s', async (_name, make, options, message) => {
    const { counts, ...columns } = options;
    const opened = await openSingleCell(
      { kind: 'h5ad', input: { name: 'bad.h5ad', bytes: await make() } },
      { counts },
    );
    let text = opened.ok ? '' : opened.error.message;
    if (opened.ok) {
      const result = await pseudobulkDataset([opened.data], {
        contextColumn: 'cell_line',
        perturbationColumn: 'guide',
        controls: ['NT'],
        minCells: 2,
        ...columns,
      });
      opened.data.close();
      text = result.ok ? 'ok' : result.error.message;
    }
    expect(text).toMatch(message);
  });
});

/** CSC counts in layers/counts, float X, nullable and string-array obs columns, written field by field. */
async function handWritten(): Promise<Uint8Array> {
  const module = await h5Module();
  const f = new h5wasm.File('/hand.h5ad', 'w');
  const enc = (g: { create_attribute: (n: string, v: string) => void }, type: string) => {
    g.create_attribute('encoding-type', type);
    g.create_attribute('encoding-version', '0.2.0');
  };
  const obs = f.create_group('obs');
  enc(obs, 'dataframe');
  obs.create_attribute('_index', 'cell_id');
  obs.create_attribute('column-order', ['line', 'dose']);
  enc(obs.create_dataset({ name: 'cell_id', data: ['a', 'b', 'c'] }), 'string-array');
  enc(obs.create_dataset({ name: 'line', data: ['K562', 'K562', 'RPE1'] }), 'string-array');
  const dose = obs.create_group('dose');
  enc(dose, 'nullable-integer');
  dose.create_dataset({ name: 'values', data: new Int32Array([1, 2, 3]) });
  dose.create_dataset({ name: 'mask', data: new Uint8Array([0, 1, 0]) });
  const v = f.create_group('var');
  enc(v, 'dataframe');
  v.create_attribute('_index', '_index');
  v.create_attribute('column-order', new Float64Array(0), [0]);
  enc(v.create_dataset({ name: '_index', data: ['G1', 'G2'] }), 'string-array');
  // Cells x genes [[4, 0], [0, 2], [1, 3]] stored gene by gene.
  const counts = f.create_group('layers').create_group('counts');
  enc(counts, 'csc_matrix');
  counts.create_attribute('shape', new BigInt64Array([3n, 2n]));
  counts.create_dataset({ name: 'data', data: new BigInt64Array([4n, 1n, 2n, 3n]) });
  counts.create_dataset({ name: 'indices', data: new Int32Array([0, 2, 1, 2]) });
  counts.create_dataset({ name: 'indptr', data: new Int32Array([0, 2, 4]) });
  f.create_dataset({ name: 'X', data: new Float32Array([0.5, 0, 0, 0.7, 0.1, 0.9]), shape: [3, 2] });
  f.close();
  const bytes = module.FS.readFile('/hand.h5ad');
  module.FS.unlink('/hand.h5ad');
  return bytes;
}

describe('h5ad layouts written field by field', () => {
  it('reads CSC counts from layers/counts, nullable and string-array columns, and refuses float X', async () => {
    const result = await openH5ad({ name: 'hand.h5ad', bytes: await handWritten() });
    if (!result.ok) throw new Error(result.error.message);
    const { summary: s, data } = result.data;
    expect(s).toMatchObject({ cells: 3, genes: 2, counts: 'layers/counts' });
    expect(s.obs).toEqual([
      { name: 'line', distinct: 2 },
      { name: 'dose', distinct: 2 },
    ]);
    expect(s.matrices.map((m) => [m.place, m.storage, m.verdict.split(' ')[0]])).toEqual([
      ['layers/counts', 'csc', 'counts'],
      ['X', 'dense', 'non-integer'],
    ]);
    const rows: string[] = [];
    await data?.scan((cell, genes, counts, n) => {
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(`${data.genes[genes[i]]}=${counts[i]}`);
      rows.push(`${data.cellNames[cell]}:${parts.join(',')}`);
    });
    result.data.close();
    expect(rows).toEqual(['a:G1=4', 'b:G2=2', 'c:G1=1,G2=3']);
  });
});
