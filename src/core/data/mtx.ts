/**
 * 10x Genomics Matrix Market folders (Cell Ranger's filtered_feature_bc_matrix): matrix.mtx (features x
 * barcodes, 1-based coordinates), barcodes.tsv, features.tsv (id, name, type; genes.tsv in Cell Ranger 2),
 * any of them gzipped, plus an optional cells.csv/cells.tsv with one row per barcode (barcode, context,
 * perturbation...). The matrix is streamed: memory holds the annotations, never the matrix.
 */
import { InputFailure, listSome, quoted, reject } from './failure';
import { RecordReader } from './records';
import { fail, type ParseResult } from './result';
import {
  columnFromLabels,
  mtxRole,
  type CellVisitor,
  type MtxRole,
  type ObsColumn,
  type ScanHooks,
  type SingleCellData,
} from './single-cell';

export { mtxRole };
import type { InputFile } from './source';
import { readText } from './text-stream';
import type { CellLabels, CellTable } from './h5ad-write';
import { plural } from '../text';

const GENE_EXPRESSION = 'Gene Expression';

/**
 * Splits streamed text into lines (numbered from 1, CR stripped); `afterChunk` runs once each chunk's lines
 * are visited, and `options.shouldStop` is polled between chunks.
 */
async function forEachLine(
  file: InputFile,
  visit: (line: string, n: number) => boolean | void,
  options: { afterChunk?: () => void; shouldStop?: () => boolean } = {},
): Promise<void> {
  let carry = '';
  let n = 0;
  let stopped = false;
  await readText(
    file,
    {
      push(text) {
        if (stopped) return false;
        const all = carry + text;
        let start = 0;
        for (;;) {
          const nl = all.indexOf('\n', start);
          if (nl < 0) break;
          n++;
          if (visit(all.slice(start, nl).replace(/\r$/, ''), n) === false) {
            stopped = true;
            return false;
          }
          start = nl + 1;
        }
        carry = all.slice(start);
        options.afterChunk?.();
        return true;
      },
      end() {
        if (!stopped && carry !== '') visit(carry.replace(/\r$/, ''), ++n);
      },
    },
    { shouldStop: options.shouldStop },
  );
}

async function readTsvColumns(file: InputFile): Promise<string[][]> {
  const rows: string[][] = [];
  await forEachLine(file, (line) => {
    if (line.trim() !== '') rows.push(line.split('\t'));
  });
  return rows;
}

interface Header {
  rows: number;
  cols: number;
  entries: number;
  integer: boolean;
  headerLine: number;
}

async function readHeader(file: InputFile): Promise<Header> {
  let banner = '';
  let header: Header | undefined;
  await forEachLine(file, (line, n) => {
    if (n === 1) {
      banner = line;
      if (!/^%%MatrixMarket\s+matrix\s+coordinate\s+(integer|real|double)\s+general\s*$/i.test(line)) {
        reject({
          file: file.name,
          line: 1,
          expected: 'the banner "%%MatrixMarket matrix coordinate integer general"',
          found: quoted(line, 60),
        });
      }
      return true;
    }
    if (line.startsWith('%') || line.trim() === '') return true;
    const parts = line.trim().split(/\s+/).map(Number);
    if (parts.length !== 3 || !parts.every((v) => Number.isInteger(v) && v >= 0)) {
      reject({
        file: file.name,
        line: n,
        expected: 'the size line "features barcodes entries"',
        found: quoted(line, 60),
      });
    }
    header = {
      rows: parts[0],
      cols: parts[1],
      entries: parts[2],
      integer: /integer/i.test(banner),
      headerLine: n,
    };
    return false;
  });
  if (!header) {
    reject({ file: file.name, expected: 'a Matrix Market size line', found: 'the end of the file' });
  }
  return header;
}

export interface MtxDataset {
  data: SingleCellData;
  /** Features that are not genes (CRISPR guides, antibodies), dropped; 0 when all are genes. */
  droppedFeatures: number;
  notes: string[];
}

async function open(files: readonly InputFile[], folder: string): Promise<MtxDataset> {
  const found: Partial<Record<MtxRole, InputFile>> = {};
  for (const f of files) {
    const role = mtxRole(f.name);
    if (role && !found[role]) found[role] = f;
  }
  const missing = (['matrix', 'barcodes', 'features'] as const).filter((r) => !found[r]);
  if (missing.length) {
    reject({
      file: folder,
      expected: 'a 10x folder with matrix.mtx, barcodes.tsv and features.tsv (or genes.tsv), gzipped or not',
      found: `no ${missing.map((m) => (m === 'matrix' ? 'matrix.mtx' : `${m}.tsv`)).join(', ')} among ${listSome(
        files.map((f) => f.name),
        8,
      )}`,
    });
  }
  const matrix = found.matrix as InputFile;
  const notes: string[] = [];
  const header = await readHeader(matrix);
  const barcodes = (await readTsvColumns(found.barcodes as InputFile)).map((r) => r[0]);
  const featureRows = await readTsvColumns(found.features as InputFile);
  const featuresFile = (found.features as InputFile).name;
  if (header.rows !== featureRows.length || header.cols !== barcodes.length) {
    const side = header.rows !== featureRows.length ? 'features' : 'barcodes';
    reject({
      file: matrix.name,
      line: header.headerLine,
      expected:
        side === 'features'
          ? `${plural(featureRows.length, 'row')} (one per line of ${featuresFile})`
          : `${plural(barcodes.length, 'column')} (one per line of ${(found.barcodes as InputFile).name})`,
      found: `a matrix of ${header.rows} features x ${header.cols} barcodes`,
    });
  }
  // Only Gene Expression features are genes; guide or antibody counts would distort the library sizes.
  const geneIndex = new Int32Array(featureRows.length).fill(-1);
  const genes: string[] = [];
  featureRows.forEach((r, i) => {
    if (r.length >= 3 && r[2].trim() !== GENE_EXPRESSION) return;
    geneIndex[i] = genes.length;
    genes.push(r[0].trim());
  });
  const droppedFeatures = featureRows.length - genes.length;
  if (droppedFeatures) {
    const types = [
      ...new Set(
        featureRows.filter((r) => r.length >= 3 && r[2].trim() !== GENE_EXPRESSION).map((r) => r[2].trim()),
      ),
    ];
    notes.push(
      `${featuresFile}: ${plural(droppedFeatures, 'feature')} that are not Gene Expression (${listSome(types)}) left out.`,
    );
  }
  if (!genes.length) {
    reject({ file: featuresFile, expected: 'features of type Gene Expression', found: 'none' });
  }
  const obs = found.cells ? await readCells(found.cells, barcodes) : [];
  const cellOf = new Map(barcodes.map((b, i) => [b, i]));
  if (cellOf.size !== barcodes.length)
    notes.push(`${(found.barcodes as InputFile).name}: repeated barcodes.`);
  const scan = async (visit: CellVisitor, hooks?: ScanHooks): Promise<void> => {
    let seen = 0;
    let run = -1;
    // 10x writes the matrix barcode by barcode: the cells before the current run are read.
    let read = 0;
    const afterChunk = () => {
      if (run > read) {
        read = run;
        hooks?.onCells?.(read);
      }
    };
    let g: number[] = [];
    let v: number[] = [];
    const flush = () => {
      if (run >= 0 && g.length) visit(run, g, v, g.length);
      g = [];
      v = [];
    };
    await forEachLine(
      matrix,
      (line, n) => {
        if (n <= header.headerLine || line === '' || line.startsWith('%')) return true;
        const parts = line.trim().split(/\s+/);
        const row = Number(parts[0]);
        const col = Number(parts[1]);
        const value = Number(parts[2]);
        if (
          parts.length !== 3 ||
          !Number.isInteger(row) ||
          !Number.isInteger(col) ||
          row < 1 ||
          row > header.rows ||
          col < 1 ||
          col > header.cols
        ) {
          reject({
            file: matrix.name,
            line: n,
            expected: `"feature barcode value" with feature 1..${header.rows} and barcode 1..${header.cols}`,
            found: quoted(line, 60),
          });
        }
        if (!(value >= 0) || !Number.isInteger(value)) {
          reject({
            file: matrix.name,
            line: n,
            column: 3,
            expected: `a whole, non-negative count (feature ${quoted(featureRows[row - 1][0])}, barcode ${quoted(barcodes[col - 1])})`,
            found: `${quoted(parts[2])}: normalised or scaled values, not counts`,
          });
        }
        seen++;
        const gene = geneIndex[row - 1];
        if (col - 1 !== run) {
          flush();
          run = col - 1;
        }
        if (gene >= 0 && value > 0) {
          g.push(gene);
          v.push(value);
        }
        return true;
      },
      { afterChunk, shouldStop: hooks?.shouldStop },
    );
    flush();
    if (seen !== header.entries) {
      reject({
        file: matrix.name,
        line: header.headerLine,
        expected: `${header.entries.toLocaleString('en-US')} entries, as the size line says`,
        found: `${seen.toLocaleString('en-US')}${seen < header.entries ? ': the file ends early (truncated?)' : ''}`,
      });
    }
    hooks?.onCells?.(barcodes.length);
  };
  return {
    data: {
      file: folder,
      countsPlace: matrix.name,
      cells: barcodes.length,
      cellNames: barcodes,
      genes,
      obs,
      scan,
    },
    droppedFeatures,
    notes,
  };
}

/** cells.csv/tsv: a barcode column (named barcode, cell or cell_barcode, else the first) and annotations. */
async function readCells(file: InputFile, barcodes: readonly string[]): Promise<ObsColumn[]> {
  const delimiter = /\.tsv(\.gz)?$/i.test(file.name) ? '\t' : ',';
  let names: string[] = [];
  const rows: string[][] = [];
  const lines: number[] = [];
  const reader = new RecordReader(file.name, delimiter, (f) => {
    const values: string[] = [];
    for (let i = 0; i < f.count; i++) values.push(f.text(i));
    if (!names.length) names = values;
    else if (values.some((x) => x !== '')) {
      rows.push(values);
      lines.push(f.line);
    }
  });
  await readText(file, {
    push(text) {
      reader.push(text);
      return true;
    },
    end() {
      reader.end();
    },
  });
  const key = names.findIndex((n) => /^(barcode|cell|cell_barcode|cell_id|obs_names)$/i.test(n.trim()));
  const at = key >= 0 ? key : 0;
  const cellOf = new Map(barcodes.map((b, i) => [b, i]));
  const labels = names.map(() => new Array<string | undefined>(barcodes.length));
  let unknown = 0;
  let firstUnknown = '';
  rows.forEach((r, k) => {
    if (r.length !== names.length) {
      reject({
        file: file.name,
        line: lines[k],
        expected: `${names.length} fields as in the header`,
        found: `${r.length}`,
      });
    }
    const cell = cellOf.get(r[at]);
    if (cell === undefined) {
      if (!unknown) firstUnknown = r[at];
      unknown++;
      return;
    }
    r.forEach((x, i) => (labels[i][cell] = x));
  });
  if (unknown === rows.length && rows.length) {
    reject({
      file: file.name,
      column: names[at],
      expected: 'barcodes listed in barcodes.tsv',
      found: `none of its ${plural(rows.length, 'row')} (first ${quoted(firstUnknown)})`,
    });
  }
  return names.map((n, i) => columnFromLabels(n.trim(), labels[i])).filter((_, i) => i !== at);
}

/**
 * Opens a 10x Matrix Market folder given as its files (matrix.mtx, barcodes.tsv, features.tsv or genes.tsv,
 * optional cells.csv; each may be gzipped). `folder` names it in messages. Reads annotations now; the matrix
 * is streamed by `data.scan`, which checks coordinates, whole non-negative counts and the entry count.
 */
export async function openMtx(files: readonly InputFile[], folder: string): Promise<ParseResult<MtxDataset>> {
  try {
    const data = await open(files, folder);
    return { ok: true, data, notes: data.notes };
  } catch (e) {
    if (e instanceof InputFailure) return { ok: false, error: e.error };
    return fail({
      file: folder,
      expected: 'a 10x folder the reader can read',
      found: `an internal error (${e instanceof Error ? e.message : String(e)})`,
    });
  }
}

export interface MtxText {
  matrix: string;
  barcodes: string;
  features: string;
  cells: string;
}

/** The header of a 10x matrix.mtx: features x barcodes, `entries` stored counts. */
export function mtxHeader(genes: number, cells: number, entries: number): string {
  return [
    '%%MatrixMarket matrix coordinate integer general',
    '%metadata_json: {"software_version": "c3tl-simulate"}',
    `${genes} ${cells} ${entries}`,
    '',
  ].join('\n');
}

/**
 * The matrix.mtx lines (each ending in a newline) of CSR rows: cell `firstCell + r` has the counts
 * data[indptr[r]..indptr[r + 1]) at 0-based genes indices[...]; written 1-based, gene then cell.
 */
export function mtxEntryLines(
  indptr: ArrayLike<number>,
  indices: ArrayLike<number>,
  data: ArrayLike<number>,
  firstCell: number,
): string {
  const lines: string[] = [];
  for (let r = 0; r + 1 < indptr.length; r++) {
    for (let i = indptr[r]; i < indptr[r + 1]; i++)
      lines.push(`${indices[i] + 1} ${firstCell + r + 1} ${data[i]}`);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** The 10x files other than the matrix (barcodes.tsv, features.tsv, cells.csv) for the labels. */
export function mtxLabelFiles(labels: CellLabels): Omit<MtxText, 'matrix'> {
  const columns = Object.keys(labels.obs);
  const csv = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return {
    barcodes: labels.barcodes.join('\n') + '\n',
    features: labels.genes.map((g) => `${g}\t${g}\t${GENE_EXPRESSION}`).join('\n') + '\n',
    cells:
      [
        ['barcode', ...columns].join(','),
        ...labels.barcodes.map((b, c) => [b, ...columns.map((k) => labels.obs[k][c])].map(csv).join(',')),
      ].join('\n') + '\n',
  };
}

/** 10x text files for cells x genes CSR counts (matrix features x barcodes, as Cell Ranger writes). */
export function formatMtx(table: Omit<CellTable, 'floatData'>): MtxText {
  return {
    matrix:
      mtxHeader(table.genes.length, table.barcodes.length, table.data.length) +
      mtxEntryLines(table.indptr, table.indices, table.data, 0),
    ...mtxLabelFiles(table),
  };
}
