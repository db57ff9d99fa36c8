/**
 * Writes cells x genes counts as an .h5ad in the layout current AnnData (0.8 and later) writes: X as a
 * csr_matrix group, obs/var as dataframe groups with string-array indexes and categorical columns.
 */
import h5wasm, { type Group } from 'h5wasm';
import { h5Module } from './h5ad-hdf5';

export interface CellTable {
  genes: readonly string[];
  barcodes: readonly string[];
  /** obs columns written as categoricals, each of length cells. */
  obs: Readonly<Record<string, readonly string[]>>;
  /** CSR cells x genes: indptr (cells + 1), gene indices and counts of the nonzeros. */
  indptr: Int32Array;
  indices: Int32Array;
  data: Uint32Array;
  /** Written as X's values instead of `data` (float64), for data that are not counts. */
  floatData?: Float64Array;
}

let counter = 0;

function encode(target: Group, type: string, version: string): void {
  target.create_attribute('encoding-type', type);
  target.create_attribute('encoding-version', version);
}

function stringArray(group: Group, name: string, values: readonly string[]): void {
  const ds = group.create_dataset({
    name,
    data: values.length ? values.slice() : [''],
    shape: [values.length],
  });
  encode(ds as unknown as Group, 'string-array', '0.2.0');
}

function categorical(group: Group, name: string, values: readonly string[]): void {
  const categories: string[] = [];
  const index = new Map<string, number>();
  const codes = new Int32Array(values.length);
  values.forEach((v, i) => {
    let code = index.get(v);
    if (code === undefined) {
      code = categories.length;
      categories.push(v);
      index.set(v, code);
    }
    codes[i] = code;
  });
  const g = group.create_group(name);
  encode(g, 'categorical', '0.2.0');
  g.create_attribute('ordered', new Uint8Array([0]));
  g.create_dataset({ name: 'codes', data: codes });
  stringArray(g, 'categories', categories);
}

function dataframe(
  parent: Group,
  name: string,
  index: readonly string[],
  columns: Record<string, readonly string[]>,
): void {
  const g = parent.create_group(name);
  encode(g, 'dataframe', '0.2.0');
  g.create_attribute('_index', '_index');
  const order = Object.keys(columns);
  // AnnData writes an empty float array when a dataframe has no columns.
  if (order.length) g.create_attribute('column-order', order);
  else g.create_attribute('column-order', new Float64Array(0), [0]);
  stringArray(g, '_index', index);
  for (const [col, values] of Object.entries(columns)) categorical(g, col, values);
}

/** What an .h5ad holds besides X: the cells' names and obs columns, the genes' names. */
export type CellLabels = Pick<CellTable, 'genes' | 'barcodes' | 'obs'>;

/**
 * Writes the AnnData layout into an open h5wasm file (in memory or on disk): X as a csr_matrix group of shape
 * cells x genes, whose data/indices/indptr datasets `writeX` creates; obs, var and the empty dict groups.
 */
export function writeAnnData(f: Group, labels: CellLabels, writeX: (X: Group) => void): void {
  encode(f, 'anndata', '0.1.0');
  const X = f.create_group('X');
  encode(X, 'csr_matrix', '0.1.0');
  X.create_attribute(
    'shape',
    new BigInt64Array([BigInt(labels.barcodes.length), BigInt(labels.genes.length)]),
  );
  writeX(X);
  dataframe(f, 'obs', labels.barcodes, { ...labels.obs });
  dataframe(f, 'var', labels.genes, {});
  for (const name of ['layers', 'obsm', 'obsp', 'varm', 'varp', 'uns'])
    encode(f.create_group(name), 'dict', '0.1.0');
}

/** The bytes of an .h5ad holding `table` (X = counts as uint32 CSR, obs = barcodes + categoricals). */
export async function writeH5ad(table: CellTable): Promise<Uint8Array> {
  const module = await h5Module();
  const path = `/c3tl-write-${++counter}.h5ad`;
  const f = new h5wasm.File(path, 'w');
  try {
    writeAnnData(f, table, (X) => {
      X.create_dataset({ name: 'data', data: table.floatData ?? table.data });
      X.create_dataset({ name: 'indices', data: table.indices });
      X.create_dataset({ name: 'indptr', data: table.indptr });
    });
  } finally {
    f.close();
  }
  const bytes = module.FS.readFile(path);
  module.FS.unlink(path);
  return bytes;
}
