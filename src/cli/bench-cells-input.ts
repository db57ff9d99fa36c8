/**
 * The browser pseudo-bulk benchmark's input: a synthetic single-cell screen (sparse CSR counts; 4 contexts x
 * 50 perturbations plus controls, cells spread evenly) streamed to disk block by block, as an .h5ad (chunked
 * datasets written through h5wasm's Node build, which writes the real file) or as a 10x folder, so that a
 * file of several GB is written with memory bounded by one block of cells.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { writeAnnData, type CellLabels } from '../core/data/h5ad-write';
import { mtxEntryLines, mtxHeader, mtxLabelFiles } from '../core/data/mtx';

const CONTEXTS = 4;
const PERTURBATIONS = 50;
/** Cells generated and written at a time. */
const BLOCK_CELLS = 4096;
/** HDF5 chunk of the data and indices datasets, in values (4 MiB of uint32). */
const CHUNK_VALUES = 1 << 20;

export interface SyntheticShape {
  cells: number;
  genes: number;
  /** Stored counts per cell (distinct genes). */
  perCell: number;
}

/** Cell c: context c mod 4, perturbation (c / 4) mod 51 (0 = control). */
export function syntheticLabels({ cells, genes }: SyntheticShape): CellLabels {
  return {
    genes: Array.from({ length: genes }, (_, j) => `G${j}`),
    barcodes: Array.from({ length: cells }, (_, c) => `cell${c}`),
    obs: {
      context: Array.from({ length: cells }, (_, c) => `ctx${c % CONTEXTS}`),
      perturbation: Array.from({ length: cells }, (_, c) => {
        const p = Math.floor(c / CONTEXTS) % (PERTURBATIONS + 1);
        return p === 0 ? 'control' : `p${p}`;
      }),
    },
  };
}

interface CellBlock {
  firstCell: number;
  /** Local CSR offsets, length cells in block + 1, from 0. */
  indptr: Int32Array;
  indices: Int32Array;
  data: Uint32Array;
}

/**
 * The cells in blocks of BLOCK_CELLS: cell c stores `perCell` genes, every stride-th from gene c mod stride
 * (stride = floor(genes / perCell)): any stride consecutive cells together store the first stride x perCell
 * genes (the gene filter then keeps them all). Counts 1..11.
 */
export function* syntheticBlocks({ cells, genes, perCell }: SyntheticShape): Generator<CellBlock> {
  const stride = Math.max(1, Math.floor(genes / perCell));
  for (let first = 0; first < cells; first += BLOCK_CELLS) {
    const n = Math.min(BLOCK_CELLS, cells - first);
    const indptr = new Int32Array(n + 1);
    const indices = new Int32Array(n * perCell);
    const data = new Uint32Array(n * perCell);
    for (let r = 0; r < n; r++) {
      const c = first + r;
      indptr[r + 1] = (r + 1) * perCell;
      const start = c % stride;
      for (let i = 0; i < perCell; i++) {
        indices[r * perCell + i] = start + i * stride;
        data[r * perCell + i] = 1 + ((c * 31 + i * 17) % 11);
      }
    }
    yield { firstCell: first, indptr, indices, data };
  }
}

/** The files of the input in `dir`, as the writers below name them. */
export function inputPaths(dir: string, format: string): string[] {
  const names =
    format === 'h5ad' ? ['cells.h5ad'] : ['matrix.mtx', 'barcodes.tsv', 'features.tsv', 'cells.csv'];
  return names.map((n) => join(dir, n));
}

/** Writes the synthetic screen as `dir`/cells.h5ad (X uint32 CSR, chunked, uncompressed); returns its path. */
export async function writeSyntheticH5ad(dir: string, shape: SyntheticShape): Promise<string[]> {
  await h5wasm.ready;
  const [path] = inputPaths(dir, 'h5ad');
  const f = new h5wasm.File(path, 'w');
  try {
    writeAnnData(f, syntheticLabels(shape), (X) => {
      const growing = (name: string, empty: Uint32Array | Int32Array) =>
        X.create_dataset({ name, data: empty, shape: [0], maxshape: [null], chunks: [CHUNK_VALUES] });
      const data = growing('data', new Uint32Array(0));
      const indices = growing('indices', new Int32Array(0));
      let written = 0;
      for (const block of syntheticBlocks(shape)) {
        const end = written + block.data.length;
        for (const [ds, values] of [
          [data, block.data],
          [indices, block.indices],
        ] as const) {
          ds.resize([end]);
          ds.write_slice([[written, end]], values);
        }
        written = end;
      }
      const indptr = new Int32Array(shape.cells + 1).map((_, c) => c * shape.perCell);
      X.create_dataset({ name: 'indptr', data: indptr });
    });
  } finally {
    f.close();
  }
  return [path];
}

/** Writes the synthetic screen as a 10x folder in `dir` (matrix.mtx streamed by block); returns the paths. */
export function writeSyntheticMtx(dir: string, shape: SyntheticShape): string[] {
  const paths = inputPaths(dir, 'mtx');
  const fd = openSync(paths[0], 'w');
  try {
    writeSync(fd, mtxHeader(shape.genes, shape.cells, shape.cells * shape.perCell));
    for (const block of syntheticBlocks(shape))
      writeSync(fd, mtxEntryLines(block.indptr, block.indices, block.data, block.firstCell));
  } finally {
    closeSync(fd);
  }
  const text = mtxLabelFiles(syntheticLabels(shape));
  [text.barcodes, text.features, text.cells].forEach((t, i) => writeFileSync(paths[i + 1], t));
  return paths;
}
