/** The count matrices of an .h5ad file (dense, CSR or CSC): found, described and streamed cell by cell. */
import type { Entity, Group } from 'h5wasm';
import { reject } from './failure';
import { attr, attrText, child, isDataset, isGroup, numberArray, numbers, type Reader } from './h5ad-hdf5';
import type { CellVisitor } from './single-cell';

export interface MatrixInfo {
  /** "X", "raw/X" (raw.X in 0.5 files), "layers/NAME". */
  place: string;
  storage: 'dense' | 'csr' | 'csc';
  /** [cells, genes]. */
  shape: [number, number];
  /** 'counts' when the sampled values are whole and non-negative, else why they are not counts. */
  verdict: string;
}

/** Cells sampled (from the start) to decide whether a matrix holds counts. */
const SAMPLE_CELLS = 500;
/** Rows and nonzeros read per slice when streaming a matrix. */
const BLOCK_VALUES = 1 << 20;
export interface Matrix {
  info: Omit<MatrixInfo, 'verdict'>;
  genesFrame: 'var' | 'raw';
  /**
   * Visits cells [from, to) in order, one block of about BLOCK_VALUES stored values at a time; yields
   * after each block the index of the next cell to visit (`to` after the last).
   */
  blocks(from: number, to: number, visit: CellVisitor): Generator<number, void>;
}

export function describeSparse(
  reader: Reader,
  e: Group,
  place: string,
  genesFrame: 'var' | 'raw',
): Matrix | undefined {
  const kind = attrText(e, 'encoding-type') ?? attrText(e, 'h5sparse_format');
  const storage = kind?.startsWith('csr') ? 'csr' : kind?.startsWith('csc') ? 'csc' : undefined;
  const shape = numbers(attr(e, 'shape') ?? attr(e, 'h5sparse_shape'));
  const data = child(e, 'data');
  const indices = child(e, 'indices');
  const indptrDs = child(e, 'indptr');
  if (!storage || shape.length !== 2 || !isDataset(data) || !isDataset(indices) || !isDataset(indptrDs))
    return undefined;
  const [cells, genes] = shape;
  const file = reader.file;
  const indptr = numbers(reader.value(indptrDs));
  const major = storage === 'csr' ? cells : genes;
  if (indptr.length !== major + 1) {
    reject({
      file,
      column: `${place}/indptr`,
      expected: `${major + 1} offsets (${storage}, shape ${cells} x ${genes})`,
      found: `${indptr.length}`,
    });
  }
  const info: Matrix['info'] = { place, storage, shape: [cells, genes] };
  if (storage === 'csr') {
    return {
      info,
      genesFrame,
      *blocks(from, to, visit) {
        let cell = from;
        while (cell < to) {
          let end = cell + 1;
          while (end < to && indptr[end + 1] - indptr[cell] <= BLOCK_VALUES) end++;
          const lo = indptr[cell];
          const hi = indptr[end];
          const d = numberArray(hi > lo ? reader.read(`${place}/data`, () => data.slice([[lo, hi]])) : []);
          const g = numberArray(
            hi > lo ? reader.read(`${place}/indices`, () => indices.slice([[lo, hi]])) : [],
          );
          if (d.length !== hi - lo || g.length !== hi - lo) {
            reject({
              file,
              column: `${place}/data`,
              expected: `${hi - lo} stored values for cells ${cell + 1} to ${end}`,
              found: `${Math.min(d.length, g.length)}`,
            });
          }
          for (let c = cell; c < end; c++) {
            const a = indptr[c] - lo;
            const b = indptr[c + 1] - lo;
            for (let i = a; i < b; i++) {
              if (!(g[i] >= 0 && g[i] < genes)) {
                reject({
                  file,
                  column: `${place}/indices`,
                  expected: `gene indices below ${genes}`,
                  found: `${g[i]} in cell ${c + 1}`,
                });
              }
            }
            visit(c, g.subarray(a, b), d.subarray(a, b), b - a);
          }
          cell = end;
          yield cell;
        }
      },
    };
  }
  return {
    info,
    genesFrame,
    *blocks(from, to, visit) {
      // CSC is stored gene by gene: it is read whole and regrouped by cell (memory grows with nonzeros).
      const d = numbers(reader.read(`${place}/data`, () => data.value));
      const g = numbers(reader.read(`${place}/indices`, () => indices.value));
      const perCell = new Int32Array(cells + 1);
      for (let j = 0; j < genes; j++) {
        for (let i = indptr[j]; i < indptr[j + 1]; i++) {
          if (!(g[i] >= 0 && g[i] < cells)) {
            reject({
              file,
              column: `${place}/indices`,
              expected: `cell indices below ${cells}`,
              found: `${g[i]} in gene column ${j + 1}`,
            });
          }
          perCell[g[i] + 1]++;
        }
      }
      for (let c = 0; c < cells; c++) perCell[c + 1] += perCell[c];
      const fill = perCell.slice(0, cells);
      const geneOf = new Int32Array(d.length);
      const valueOf = new Float64Array(d.length);
      for (let j = 0; j < genes; j++) {
        for (let i = indptr[j]; i < indptr[j + 1]; i++) {
          const at = fill[g[i]]++;
          geneOf[at] = j;
          valueOf[at] = d[i];
        }
      }
      let sinceYield = 0;
      for (let c = from; c < to; c++) {
        const a = perCell[c];
        const b = perCell[c + 1];
        visit(c, geneOf.subarray(a, b), valueOf.subarray(a, b), b - a);
        sinceYield += b - a + 1;
        if (sinceYield >= BLOCK_VALUES || c + 1 === to) {
          sinceYield = 0;
          yield c + 1;
        }
      }
    },
  };
}

export function describeMatrix(
  reader: Reader,
  place: string,
  hdfPath: string,
  genesFrame: 'var' | 'raw',
): Matrix | undefined {
  const parts = hdfPath.split('/');
  let e: Entity | null = reader.f;
  for (const p of parts) e = isGroup(e) ? child(e, p) : null;
  if (isGroup(e)) return describeSparse(reader, e, place, genesFrame);
  if (!isDataset(e) || e.shape?.length !== 2) return undefined;
  const ds = e;
  const [cells, genes] = ds.shape as [number, number];
  return {
    info: { place, storage: 'dense', shape: [cells, genes] },
    genesFrame,
    *blocks(from, to, visit) {
      const rows = Math.max(1, Math.floor(BLOCK_VALUES / Math.max(1, genes)));
      const idx = new Int32Array(genes);
      const val = new Float64Array(genes);
      for (let r0 = from; r0 < to; r0 += rows) {
        const r1 = Math.min(to, r0 + rows);
        const block = numbers(reader.read(place, () => ds.slice([[r0, r1], []])));
        for (let c = r0; c < r1; c++) {
          let n = 0;
          const base = (c - r0) * genes;
          for (let j = 0; j < genes; j++) {
            const v = block[base + j];
            if (v !== 0) {
              idx[n] = j;
              val[n++] = v;
            }
          }
          visit(c, idx, val, n);
        }
        yield r1;
      }
    },
  };
}

/** Why a matrix does not hold counts, from its first cells; 'counts' when it does. */
export function countsVerdict(m: Matrix): string {
  let negative = 0;
  let fractional = 0;
  let positive = 0;
  let example = 0;
  const sample = m.blocks(0, Math.min(SAMPLE_CELLS, m.info.shape[0]), (_c, _g, counts, n) => {
    for (let i = 0; i < n; i++) {
      const v = counts[i];
      if (v < 0) {
        if (!negative) example = v;
        negative++;
      } else if (!Number.isInteger(v)) {
        if (!negative && !fractional) example = v;
        fractional++;
      } else if (v > 0) positive++;
    }
  });
  while (!sample.next().done);
  if (negative) return `negative values (e.g. ${example}): scaled or centred data, not counts`;
  if (fractional)
    return `non-integer values (e.g. ${example}): normalised or log-transformed data, not counts`;
  if (!positive) return 'only zeros in the first cells';
  return 'counts';
}

export function listMatrices(reader: Reader, layout05: boolean): Matrix[] {
  const out: Matrix[] = [];
  const add = (m: Matrix | undefined) => m && out.push(m);
  const layers = child(reader.f, 'layers');
  if (isGroup(layers) && layers.keys().includes('counts'))
    add(describeMatrix(reader, 'layers/counts', 'layers/counts', 'var'));
  if (layout05) add(describeMatrix(reader, 'raw.X', 'raw.X', 'raw'));
  else add(describeMatrix(reader, 'raw/X', 'raw/X', 'raw'));
  add(describeMatrix(reader, 'X', 'X', 'var'));
  if (isGroup(layers)) {
    for (const name of layers.keys()) {
      if (name !== 'counts') add(describeMatrix(reader, `layers/${name}`, `layers/${name}`, 'var'));
    }
  }
  return out;
}
