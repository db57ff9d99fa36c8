/**
 * AnnData (.h5ad) reader on h5wasm (HDF5 compiled to WebAssembly; the same code in Node and in the worker).
 * It understands every layout AnnData has written: 0.5/0.6 (obs/var as compound datasets, categories in
 * uns/<col>_categories, sparse matrices marked by h5sparse_format), 0.7 (dataframe groups with _index,
 * categorical codes whose 'categories' attribute references a dataset), 0.8+ (categorical, string-array and
 * nullable groups marked by encoding-type). Matrices may be dense, CSR or CSC, integer or float.
 */
import h5wasm, { type Dataset, type Entity, type File as H5File, type Group } from 'h5wasm';
import { InputFailure, listSome, quoted, reject } from './failure';
import { fail, type ParseResult } from './result';
import {
  columnFromLabels,
  columnFromNumbers,
  distinctValues,
  type CellVisitor,
  type ObsColumn,
  type SingleCellData,
} from './single-cell';

/** An HDF5 filter plugin (an Emscripten side module such as h5wasm-plugins' libH5Zlzf.so). */
export interface H5Plugin {
  /** File name the HDF5 plugin loader looks for, e.g. "libH5Zlzf.so". */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** An .h5ad file: its bytes (copied into h5wasm's memory), or a File/Blob mounted read-only in a worker. */
export type H5adInput =
  { readonly name: string; readonly bytes: Uint8Array } | { readonly name: string; readonly blob: Blob };

export interface H5adOptions {
  /** Where to take counts from: "X", "raw/X" or "layers/NAME"; automatic when absent. */
  counts?: string;
}

export interface MatrixInfo {
  /** "X", "raw/X" (raw.X in 0.5 files), "layers/NAME". */
  place: string;
  storage: 'dense' | 'csr' | 'csc';
  /** [cells, genes]. */
  shape: [number, number];
  /** 'counts' when the sampled values are whole and non-negative, else why they are not counts. */
  verdict: string;
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

/** Cells sampled (from the start) to decide whether a matrix holds counts. */
const SAMPLE_CELLS = 500;
/** Rows and nonzeros read per slice when streaming a matrix. */
const BLOCK_VALUES = 1 << 20;
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

let plugins: readonly H5Plugin[] = [];
let ready: Promise<H5Module> | undefined;
let fileCounter = 0;

type H5Module = Awaited<typeof h5wasm.ready>;

/**
 * Sets the HDF5 filter plugins to install before the first file is opened (the CLI reads them from
 * node_modules, the worker bundles them). Without the LZF plugin, files AnnData 0.7 wrote cannot be read.
 */
export function useH5Plugins(list: readonly H5Plugin[]): void {
  plugins = list;
}

/** The h5wasm module, started once with the plugins of useH5Plugins installed. */
export async function h5Module(): Promise<H5Module> {
  ready ??= h5wasm.ready.then((module) => {
    // HDF5 errors become exceptions carrying the error stack, instead of text printed on stderr.
    module.activate_throwing_error_handler();
    const dir = module.get_plugin_search_paths()[0];
    module.FS.mkdirTree(dir);
    for (const p of plugins) module.FS.writeFile(`${dir}/${p.name}`, p.bytes);
    return module;
  });
  return ready;
}

/** True when the bytes start with the HDF5 signature (at 0 or a power-of-two user-block offset). */
export function looksLikeHdf5(head: Uint8Array): boolean {
  return signatureAt(head) >= 0;
}

function signatureAt(head: Uint8Array): number {
  for (let at = 0; at + 8 <= head.length; at = at === 0 ? 512 : at * 2) {
    if (HDF5_SIGNATURE.every((b, i) => head[at + i] === b)) return at;
  }
  return -1;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The innermost cause of an HDF5 error stack ("required filter 'lzf' is not registered"). */
function hdf5Cause(e: unknown): string {
  const causes = [...errorText(e).matchAll(/ in [\w.]+\(\): ([^\n]+)/g)].map((m) => m[1].trim());
  return causes.length ? causes[causes.length - 1] : errorText(e).split('\n')[0];
}

/**
 * The end-of-file address the superblock declares (versions 0 to 3), or undefined when it cannot be read;
 * a file shorter than that was cut off.
 */
function declaredEnd(head: Uint8Array, at: number): number | undefined {
  const version = head[at + 8];
  const offsetSize = version <= 1 ? head[at + 13] : head[at + 9];
  if (offsetSize !== 8 && offsetSize !== 4) return undefined;
  const start = at + (version === 0 ? 24 : version === 1 ? 28 : 12) + 2 * offsetSize;
  if (version > 3 || start + offsetSize > head.length) return undefined;
  let value = 0;
  for (let i = offsetSize - 1; i >= 0; i--) value = value * 256 + head[start + i];
  return value + at;
}

/** Runs one HDF5 read; a failure inside HDF5 becomes a message naming the file and the object. */
function guarded<T>(file: string, place: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof InputFailure) throw e;
    reject({
      file,
      column: place,
      expected: 'an HDF5 object that can be read',
      found: `a read error (${hdf5Cause(e)}); the file may be damaged, or use a compression filter this reader lacks (gzip and LZF are included)`,
    });
  }
}

function attr(entity: Entity | null, name: string): unknown {
  if (!entity || !('attrs' in entity)) return undefined;
  const a = entity.attrs[name];
  return a ? a.value : undefined;
}

function attrText(entity: Entity | null, name: string): string | undefined {
  const v = attr(entity, name);
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

function numbers(value: unknown): number[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'number' || typeof value === 'bigint') return [Number(value)];
  if (ArrayBuffer.isView(value) || Array.isArray(value))
    return Array.from(value as ArrayLike<number | bigint>, Number);
  if (typeof value === 'object') return Object.values(value as Record<string, number>).map(Number);
  return [];
}

function isGroup(e: Entity | null): e is Group {
  return e instanceof h5wasm.Group;
}

function isDataset(e: unknown): e is Dataset {
  return e instanceof h5wasm.Dataset;
}

function child(group: Group, name: string): Entity | null {
  return group.keys().includes(name) ? group.get(name) : null;
}

function strings(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return [value];
  return Array.from(value as ArrayLike<unknown>, (v) =>
    typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : String(v),
  );
}

interface Frame {
  index: string[];
  columns: ObsColumn[];
  skipped: string[];
}

class Reader {
  readonly skipped: string[] = [];
  constructor(
    readonly f: H5File,
    readonly file: string,
  ) {}

  read<T>(place: string, fn: () => T): T {
    return guarded(this.file, place, fn);
  }

  value(ds: Dataset): unknown {
    return this.read(ds.path, () => ds.value);
  }

  /** A categorical column from codes and a categories dataset (or array). */
  categorical(name: string, codesValue: unknown, categories: string[], place: string): ObsColumn {
    const codes = Int32Array.from(numbers(codesValue));
    for (let i = 0; i < codes.length; i++) {
      if (codes[i] >= categories.length || codes[i] < -1) {
        reject({
          file: this.file,
          column: place,
          expected: `category codes between -1 and ${categories.length - 1}`,
          found: `code ${codes[i]} at cell ${i + 1}`,
        });
      }
    }
    return { name, codes, categories };
  }

  /** One column of a 0.7+ dataframe group; undefined when it is of a kind that cannot label cells. */
  frameColumn(group: Group, name: string): ObsColumn | undefined {
    const e = child(group, name);
    const place = `${group.path}/${name}`;
    if (isGroup(e)) {
      const kind = attrText(e, 'encoding-type');
      if (kind === 'categorical') {
        const codes = child(e, 'codes');
        const cats = child(e, 'categories');
        if (!isDataset(codes) || !isDataset(cats)) return undefined;
        return this.categorical(name, this.value(codes), strings(this.value(cats)), place);
      }
      if (kind?.startsWith('nullable')) {
        const values = child(e, 'values');
        const mask = child(e, 'mask');
        if (!isDataset(values)) return undefined;
        const v = strings(this.value(values));
        const m = isDataset(mask) ? numbers(this.value(mask)) : [];
        return columnFromLabels(
          name,
          v.map((x, i) => (m[i] ? undefined : x)),
        );
      }
      return undefined;
    }
    if (!isDataset(e) || (e.shape?.length ?? 0) !== 1) return undefined;
    const ref = attr(e, 'categories');
    if (ref !== undefined) {
      const target = Array.isArray(ref) ? ref[0] : ref;
      const fallback = child(group, '__categories');
      const cats: unknown =
        target instanceof Object && 'ref_data' in target
          ? this.read(place, () => this.f.dereference(target as Parameters<H5File['dereference']>[0]))
          : isGroup(fallback)
            ? child(fallback, name)
            : null;
      if (!isDataset(cats)) return undefined;
      return this.categorical(name, this.value(e), strings(this.value(cats)), place);
    }
    const value = this.value(e);
    if (ArrayBuffer.isView(value))
      return columnFromNumbers(name, value as unknown as ArrayLike<number | bigint>);
    return columnFromLabels(name, strings(value));
  }

  /** A dataframe (obs, var, raw/var) in any layout; undefined when absent. */
  frame(path: string, withColumns: boolean): Frame | undefined {
    const e = this.f.keys().includes(path.split('/')[0]) ? this.f.get(path) : null;
    if (!e) return undefined;
    if (isGroup(e)) {
      const indexName = attrText(e, '_index') ?? '_index';
      const indexDs = child(e, indexName);
      const index = isDataset(indexDs) ? strings(this.value(indexDs)) : [];
      const columns: ObsColumn[] = [];
      const skipped: string[] = [];
      if (withColumns) {
        const order = strings(attr(e, 'column-order')).filter((c) => c !== '');
        for (const name of order) {
          const column = this.frameColumn(e, name);
          if (column) columns.push(column);
          else skipped.push(name);
        }
      }
      return { index, columns, skipped };
    }
    if (isDataset(e)) return this.compoundFrame(e, withColumns);
    return undefined;
  }

  /** 0.5/0.6 layout: one compound dataset, categorical codes with categories in uns/<col>_categories. */
  compoundFrame(ds: Dataset, withColumns: boolean): Frame {
    const members = ds.metadata.compound_type?.members ?? [];
    const names = members.map((m) => m.name);
    const rows = this.value(ds) as unknown[][];
    const indexAt = Math.max(0, names.indexOf('index'));
    const index = rows.map((r) => String(r[indexAt]));
    const columns: ObsColumn[] = [];
    const skipped: string[] = [];
    if (withColumns) {
      const uns = child(this.f, 'uns');
      names.forEach((name, k) => {
        if (k === indexAt) return;
        const values = rows.map((r) => r[k]);
        if (values.some((v) => typeof v === 'object' && v !== null)) {
          skipped.push(name);
          return;
        }
        const cats = isGroup(uns) ? child(uns, `${name}_categories`) : null;
        if (isDataset(cats)) {
          columns.push(
            this.categorical(
              name,
              values.map(Number),
              strings(this.value(cats)),
              `${ds.path} member ${name}`,
            ),
          );
        } else {
          const numeric = values.every((x) => typeof x === 'number' || typeof x === 'bigint');
          columns.push(
            numeric
              ? columnFromNumbers(name, values as (number | bigint)[])
              : columnFromLabels(name, strings(values)),
          );
        }
      });
    }
    return { index, columns, skipped };
  }
}

interface Matrix {
  info: Omit<MatrixInfo, 'verdict'>;
  genesFrame: 'var' | 'raw';
  /** Visits cells [from, to) in order. */
  scan(from: number, to: number, visit: CellVisitor): void;
}

function describeSparse(
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
      scan(from, to, visit) {
        let cell = from;
        while (cell < to) {
          let end = cell + 1;
          while (end < to && indptr[end + 1] - indptr[cell] <= BLOCK_VALUES) end++;
          const lo = indptr[cell];
          const hi = indptr[end];
          const d = numbers(hi > lo ? reader.read(`${place}/data`, () => data.slice([[lo, hi]])) : []);
          const g = numbers(hi > lo ? reader.read(`${place}/indices`, () => indices.slice([[lo, hi]])) : []);
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
            visit(c, g.slice(a, b), d.slice(a, b), b - a);
          }
          cell = end;
        }
      },
    };
  }
  return {
    info,
    genesFrame,
    scan(from, to, visit) {
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
      for (let c = from; c < to; c++) {
        const a = perCell[c];
        const b = perCell[c + 1];
        visit(c, geneOf.subarray(a, b), valueOf.subarray(a, b), b - a);
      }
    },
  };
}

function describeMatrix(
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
    scan(from, to, visit) {
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
      }
    },
  };
}

/** Why a matrix does not hold counts, from its first cells; 'counts' when it does. */
function countsVerdict(m: Matrix): string {
  let negative = 0;
  let fractional = 0;
  let positive = 0;
  let example = 0;
  m.scan(0, Math.min(SAMPLE_CELLS, m.info.shape[0]), (_c, _g, counts, n) => {
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
  if (negative) return `negative values (e.g. ${example}): scaled or centred data, not counts`;
  if (fractional)
    return `non-integer values (e.g. ${example}): normalised or log-transformed data, not counts`;
  if (!positive) return 'only zeros in the first cells';
  return 'counts';
}

function listMatrices(reader: Reader, layout05: boolean): Matrix[] {
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

const CONTEXT_HINT = /cell.?line|cell.?type|celltype|donor|context|tissue|sample|batch/i;
const PERTURBATION_HINT = /perturb|guide|sgrna|gene|target|drug|treatment|compound/i;

function open(input: H5adInput, module: H5Module): { path: string; cleanup: () => void } {
  const id = ++fileCounter;
  if ('bytes' in input) {
    const path = `/c3tl-${id}.h5ad`;
    module.FS.writeFile(path, input.bytes);
    return { path, cleanup: () => module.FS.unlink(path) };
  }
  // WORKERFS reads the File on demand (FileReaderSync), so a large file is never copied whole.
  const dir = `/c3tl-${id}`;
  const fs = module.FS as unknown as {
    mkdir(p: string): void;
    mount(type: unknown, opts: unknown, p: string): void;
    unmount(p: string): void;
    rmdir(p: string): void;
    filesystems: Record<string, unknown>;
  };
  const file = new File([input.blob], 'data.h5ad');
  fs.mkdir(dir);
  fs.mount(fs.filesystems.WORKERFS, { files: [file] }, dir);
  return {
    path: `${dir}/data.h5ad`,
    cleanup: () => {
      fs.unmount(dir);
      fs.rmdir(dir);
    },
  };
}

async function openChecked(input: H5adInput, options: H5adOptions): Promise<H5adDataset> {
  const name = input.name;
  const head =
    'bytes' in input
      ? input.bytes.subarray(0, 4096)
      : new Uint8Array(await input.blob.slice(0, 4096).arrayBuffer());
  if (!looksLikeHdf5(head)) {
    reject({
      file: name,
      line: 1,
      expected: 'an HDF5 file (.h5ad starts with the bytes \\x89HDF)',
      found: head.length ? 'another kind of file' : 'an empty file',
    });
  }
  const size = 'bytes' in input ? input.bytes.length : input.blob.size;
  const end = declaredEnd(head, signatureAt(head));
  if (end !== undefined && end > size) {
    reject({
      file: name,
      expected: `the ${end.toLocaleString('en-US')} bytes its HDF5 superblock declares`,
      found: `${size.toLocaleString('en-US')} bytes: the file was cut off (an interrupted download or copy)`,
    });
  }
  const module = await h5Module();
  const { path, cleanup } = open(input, module);
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
    scan: async (visit) => m.scan(0, cells, visit),
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
