/**
 * AnnData (.h5ad) reader on h5wasm (HDF5 compiled to WebAssembly; the same code in Node and in the worker).
 * It understands every layout AnnData has written: 0.5/0.6 (obs/var as compound datasets, categories in
 * uns/<col>_categories, sparse matrices marked by h5sparse_format), 0.7 (dataframe groups with _index,
 * categorical codes whose 'categories' attribute references a dataset), 0.8+ (categorical, string-array and
 * nullable groups marked by encoding-type). Matrices may be dense, CSR or CSC, integer or float.
 */
import h5wasm, { type File as H5File } from 'h5wasm';
import { InputFailure, listSome, quoted, reject } from './failure';
import { fail, type ParseResult } from './result';
import { blockDone, distinctValues, type SingleCellData } from './single-cell';

import {
  attrText,
  declaredEnd,
  errorText,
  h5Module,
  hdf5Cause,
  isDataset,
  looksLikeHdf5,
  Reader,
  signatureAt,
  type Frame,
} from './h5ad-hdf5';
import { inputHead, inputSize, mountInput, type H5adInput } from './h5ad-mount';
import { countsVerdict, listMatrices, type Matrix, type MatrixInfo } from './h5ad-matrix';

export type { H5adInput, RandomAccessFile } from './h5ad-mount';

export interface H5adOptions {
  /** Where to take counts from: "X", "raw/X" or "layers/NAME"; automatic when absent. */
  counts?: string;
}

export interface H5adSummary {
  file: string;
  /** The file's encoding ("anndata 0.1.0"), or the layout it was recognised by ("0.5/0.6 layout"...). */
  layout: string;
  cells: number;
  genes: number;
  obs: { name: string; distinct: number }[];
  matrices: MatrixInfo[];
  /** The matrix the counts come from, when one holds counts (or was asked for). */
  counts?: string;
  /** How the counts matrix was chosen, one sentence. */
  countsReason: string;
  /** What the file lacks for pseudo-bulking, one sentence each. */
  lacks: string[];
}

export interface H5adDataset {
  summary: H5adSummary;
  /** Present when a counts matrix was found or chosen. */
  data?: SingleCellData;
  /** Closes the HDF5 file and frees its copy in memory; `data.scan` must not be called afterwards. */
  close(): void;
}

const CONTEXT_HINT = /cell.?line|cell.?type|celltype|donor|context|tissue|sample|batch/i;
const PERTURBATION_HINT = /perturb|guide|sgrna|gene|target|drug|treatment|compound/i;

async function openChecked(input: H5adInput, options: H5adOptions): Promise<H5adDataset> {
  const name = input.name;
  const head = await inputHead(input, 4096);
  if (!looksLikeHdf5(head)) {
    reject({
      file: name,
      line: 1,
      expected: 'an HDF5 file (.h5ad starts with the bytes \\x89HDF)',
      found: head.length ? 'another kind of file' : 'an empty file',
    });
  }
  const size = inputSize(input);
  const end = declaredEnd(head, signatureAt(head));
  if (end !== undefined && end > size) {
    reject({
      file: name,
      expected: `the ${end.toLocaleString('en-US')} bytes its HDF5 superblock declares`,
      found: `${size.toLocaleString('en-US')} bytes: the file was cut off (an interrupted download or copy)`,
    });
  }
  const module = await h5Module();
  const { path, cleanup } = mountInput(input, module);
  let f: H5File;
  try {
    f = new h5wasm.File(path, 'r');
  } catch (e) {
    cleanup();
    reject({
      file: name,
      expected: 'an HDF5 file that opens',
      found: `one HDF5 cannot open (${hdf5Cause(e)}): it is damaged`,
    });
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    f.close();
    cleanup();
  };
  try {
    return describe(new Reader(f, name), options, close);
  } catch (e) {
    close();
    throw e;
  }
}

function describe(reader: Reader, options: H5adOptions, close: () => void): H5adDataset {
  const f = reader.f;
  const file = reader.file;
  const top = reader.read('/', () => f.keys());
  if (!top.includes('obs') || !top.includes('var')) {
    reject({
      file,
      expected: 'an AnnData file (HDF5 with top-level obs and var)',
      found: `an HDF5 file whose top level holds ${top.length ? listSome(top.map((k) => quoted(k))) : 'nothing'}`,
    });
  }
  const layout05 = isDataset(f.get('obs'));
  const encoding = attrText(f, 'encoding-type');
  const layout = encoding
    ? `${encoding} ${attrText(f, 'encoding-version') ?? ''}`.trim()
    : layout05
      ? 'AnnData 0.5/0.6 layout (compound obs/var)'
      : 'AnnData 0.7 layout (dataframe groups)';
  const obs = reader.frame('obs', true) as Frame;
  const varFrame = reader.frame('var', false) as Frame;
  const rawFrame = reader.frame(layout05 ? 'raw.var' : 'raw/var', false);
  const matrices = listMatrices(reader, layout05);
  const cells = obs.index.length || (matrices[0]?.info.shape[0] ?? 0);
  const genes = varFrame.index.length || (matrices.find((m) => m.genesFrame === 'var')?.info.shape[1] ?? 0);
  for (const m of matrices) {
    const want = m.genesFrame === 'raw' ? (rawFrame?.index.length ?? m.info.shape[1]) : genes;
    if (m.info.shape[0] !== cells || m.info.shape[1] !== want) {
      reject({
        file,
        column: m.info.place,
        expected: `a ${cells} x ${want} matrix (obs has ${cells} cells, ${m.genesFrame === 'raw' ? 'raw/var' : 'var'} ${want} genes)`,
        found: `shape ${m.info.shape[0]} x ${m.info.shape[1]}`,
      });
    }
  }
  for (const c of obs.columns) {
    if (c.codes.length !== cells) {
      reject({
        file,
        column: `obs/${c.name}`,
        expected: `one value per cell (${cells})`,
        found: `${c.codes.length} values`,
      });
    }
  }
  const infos: MatrixInfo[] = matrices.map((m) => ({ ...m.info, verdict: countsVerdict(m) }));
  const lacks: string[] = [];
  let chosen: Matrix | undefined;
  let countsReason: string;
  if (options.counts !== undefined) {
    const wanted =
      options.counts === 'raw.X' || options.counts === 'raw/X'
        ? layout05
          ? 'raw.X'
          : 'raw/X'
        : options.counts;
    chosen = matrices.find((m) => m.info.place === wanted);
    if (!chosen) {
      reject({
        file,
        column: options.counts,
        expected: `a matrix to take counts from (${infos.length ? infos.map((m) => m.place).join(', ') : 'the file has none'})`,
        found: 'no such matrix',
      });
    }
    countsReason = `counts taken from ${chosen.info.place}, as asked`;
  } else {
    const k = infos.findIndex((m) => m.verdict === 'counts');
    chosen = k >= 0 ? matrices[k] : undefined;
    countsReason = chosen
      ? `counts taken from ${chosen.info.place}, the first of layers/counts, raw/X, X and other layers that holds whole non-negative numbers`
      : 'no matrix holds counts';
  }
  if (!matrices.length) {
    lacks.push(
      `no expression matrix: X is absent and there is no raw/X or layer (an empty AnnData of ${cells} cells x ${genes} genes)`,
    );
  } else if (!infos.some((m) => m.verdict === 'counts')) {
    lacks.push(
      `no raw counts: ${infos.map((m) => `${m.place} holds ${m.verdict}`).join('; ')}; pseudo-bulk needs whole read counts (e.g. layers/counts)`,
    );
  }
  if (!obs.columns.length) lacks.push('no obs columns to group cells by (context, perturbation)');
  else {
    if (!obs.columns.some((c) => CONTEXT_HINT.test(c.name)))
      lacks.push('no obs column that looks like a context (cell line, cell type, donor)');
    if (!obs.columns.some((c) => PERTURBATION_HINT.test(c.name)))
      lacks.push('no obs column that looks like a perturbation (perturbation, guide, gene, drug, treatment)');
  }
  const summary: H5adSummary = {
    file,
    layout,
    cells,
    genes,
    obs: obs.columns.map((c) => ({ name: c.name, distinct: distinctValues(c) })),
    matrices: infos,
    ...(chosen ? { counts: chosen.info.place } : {}),
    countsReason,
    lacks,
  };
  if (!chosen) return { summary, close };
  const m = chosen;
  const geneNames = m.genesFrame === 'raw' ? (rawFrame?.index ?? []) : varFrame.index;
  const data: SingleCellData = {
    file,
    countsPlace: m.info.place,
    cells,
    cellNames: obs.index,
    genes:
      geneNames.length === m.info.shape[1]
        ? geneNames
        : Array.from({ length: m.info.shape[1] }, (_, j) => `gene${j + 1}`),
    obs: obs.columns,
    scan: async (visit, hooks) => {
      for (const read of m.blocks(0, cells, visit)) await blockDone(hooks, read);
    },
  };
  return { summary, data, close };
}

/**
 * Opens an .h5ad file and describes it: cells, genes, obs columns, the matrices it holds and which of them
 * holds counts. `data` (cells x genes counts, streamed by cell) is present when a counts matrix exists or
 * `options.counts` names one; call `close()` when done. Every problem comes back as `ok: false` naming the
 * file and the HDF5 object.
 */
export async function openH5ad(
  input: H5adInput,
  options: H5adOptions = {},
): Promise<ParseResult<H5adDataset>> {
  try {
    const data = await openChecked(input, options);
    return { ok: true, data, notes: [] };
  } catch (e) {
    if (e instanceof InputFailure) return { ok: false, error: e.error };
    return fail({
      file: input.name,
      expected: 'an AnnData file the reader can read',
      found: `an internal error (${errorText(e)})`,
    });
  }
}
