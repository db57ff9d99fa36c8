/**
 * The form every single-cell reader (.h5ad, 10x Matrix Market, the simulator) hands to the pseudo-bulk step:
 * cell annotations as codes into categories, and a counts matrix visited one cell at a time so that no
 * reader needs to hold cells x genes in memory.
 */
import { abortError } from './failure';

/** One cell annotation column (obs). Numeric columns become categories of their distinct values. */
export interface ObsColumn {
  readonly name: string;
  /** Length cells; index into `categories`, -1 where the value is missing. */
  readonly codes: Int32Array;
  readonly categories: readonly string[];
  /**
   * Distinct values when they were counted but not kept: a continuous numeric column (a score, a count)
   * cannot label groups, so its cells carry -1 and only this number is reported.
   */
  readonly distinct?: number;
}

/** Numeric columns with more distinct values than this are continuous: counted, not kept as labels. */
export const MAX_NUMERIC_LABELS = 1000;

/**
 * Visits the nonzero entries of one cell: `genes[i]` (0-based gene index) holds `counts[i]` for i < n. The
 * arrays are reused between calls: copy what must outlive the call.
 */
export type CellVisitor = (
  cell: number,
  genes: ArrayLike<number>,
  counts: ArrayLike<number>,
  n: number,
) => void;

/** What a scan reports and polls between blocks of cells. */
export interface ScanHooks {
  /** Cells read so far (never decreasing); readers call it once per block, so it may skip values. */
  onCells?(read: number): void;
  /** Polled between blocks; true makes the scan reject with a DOMException named 'AbortError'. */
  shouldStop?(): boolean;
}

/**
 * Reports `read` cells and gives the event loop a turn (a macrotask, so that a cancel message sent to a
 * worker is handled even while a synchronous HDF5 read fills each block), then stops when asked.
 */
export async function blockDone(hooks: ScanHooks | undefined, read: number): Promise<void> {
  if (!hooks) return;
  hooks.onCells?.(read);
  if (hooks.shouldStop) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (hooks.shouldStop()) throw abortError();
  }
}

export interface SingleCellData {
  /** File name (or folder name) for messages. */
  readonly file: string;
  /** Where the counts come from, for messages and reports: "X", "raw/X", "layers/counts", "matrix.mtx". */
  readonly countsPlace: string;
  readonly cells: number;
  readonly cellNames: readonly string[];
  readonly genes: readonly string[];
  readonly obs: readonly ObsColumn[];
  /**
   * Visits every stored count once, in runs of one cell each (reads per gene as stored: the caller checks
   * that they are whole and non-negative). Readers of row-major data give one run per cell in order; a
   * Matrix Market file may give a cell several runs, and cells without counts may have none. Rejects with
   * an InputFailure on damaged input, with an AbortError when `hooks.shouldStop` asks.
   */
  scan(visit: CellVisitor, hooks?: ScanHooks): Promise<void>;
}

/** Number of distinct values actually used by a column (missing values not counted). */
export function distinctValues(column: ObsColumn): number {
  if (column.distinct !== undefined) return column.distinct;
  const used = new Uint8Array(column.categories.length);
  let n = 0;
  for (const code of column.codes) {
    if (code >= 0 && !used[code]) {
      used[code] = 1;
      n++;
    }
  }
  return n;
}

/** Builds a categorical column from per-cell labels ('' or undefined = missing). */
export function columnFromLabels(name: string, labels: ArrayLike<string | undefined>): ObsColumn {
  const index = new Map<string, number>();
  const categories: string[] = [];
  const codes = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label === undefined || label === '') {
      codes[i] = -1;
      continue;
    }
    let code = index.get(label);
    if (code === undefined) {
      code = categories.length;
      categories.push(label);
      index.set(label, code);
    }
    codes[i] = code;
  }
  return { name, codes, categories };
}

export type MtxRole = 'matrix' | 'barcodes' | 'features' | 'cells';

/** Which role a file of a 10x folder plays, by its name; undefined for other files. */
export function mtxRole(name: string): MtxRole | undefined {
  const base = name.toLowerCase().replace(/\.(gz|gzip)$/, '');
  if (/(^|[._-])matrix\.mtx$/.test(base)) return 'matrix';
  if (/(^|[._-])barcodes\.tsv$/.test(base)) return 'barcodes';
  if (/(^|[._-])(features|genes)\.tsv$/.test(base)) return 'features';
  if (/(^|[._-])cells\.(csv|tsv)$/.test(base)) return 'cells';
  return undefined;
}

/** True when dropped files are single-cell input: an .h5ad, or the matrix.mtx of a 10x folder. */
export function isSingleCellDrop(names: readonly string[]): boolean {
  return names.some((n) => /\.h5ad$/i.test(n)) || names.some((n) => mtxRole(n) === 'matrix');
}

/**
 * A column from per-cell numbers (NaN = missing): labels are the numbers as text; with more than
 * MAX_NUMERIC_LABELS distinct values only their count is kept (no string per cell is ever made).
 */
export function columnFromNumbers(name: string, values: ArrayLike<number | bigint>): ObsColumn {
  const index = new Map<number | bigint, number>();
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && Number.isNaN(v)) {
      codes[i] = -1;
      continue;
    }
    let code = index.get(v);
    if (code === undefined) {
      code = index.size;
      index.set(v, code);
    }
    codes[i] = code;
  }
  if (index.size > MAX_NUMERIC_LABELS)
    return { name, codes: codes.fill(-1), categories: [], distinct: index.size };
  return { name, codes, categories: [...index.keys()].map(String) };
}
