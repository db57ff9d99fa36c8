/**
 * h5wasm underneath the .h5ad reader: the module with its filter plugins, HDF5 errors turned into input
 * failures, attribute helpers and a Reader that knows AnnData's dataframe encodings.
 */
import h5wasm, { type Dataset, type Entity, type File as H5File, type Group } from 'h5wasm';
import { InputFailure, reject } from './failure';
import { columnFromLabels, columnFromNumbers, type ObsColumn } from './single-cell';

/** An HDF5 filter plugin (an Emscripten side module such as h5wasm-plugins' libH5Zlzf.so). */
export interface H5Plugin {
  /** File name the HDF5 plugin loader looks for, e.g. "libH5Zlzf.so". */
  readonly name: string;
  readonly bytes: Uint8Array;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

let plugins: readonly H5Plugin[] = [];
let ready: Promise<H5Module> | undefined;

export type H5Module = Awaited<typeof h5wasm.ready>;

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

export function signatureAt(head: Uint8Array): number {
  for (let at = 0; at + 8 <= head.length; at = at === 0 ? 512 : at * 2) {
    if (HDF5_SIGNATURE.every((b, i) => head[at + i] === b)) return at;
  }
  return -1;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The innermost cause of an HDF5 error stack ("required filter 'lzf' is not registered"). */
export function hdf5Cause(e: unknown): string {
  const causes = [...errorText(e).matchAll(/ in [\w.]+\(\): ([^\n]+)/g)].map((m) => m[1].trim());
  return causes.length ? causes[causes.length - 1] : errorText(e).split('\n')[0];
}

/**
 * The end-of-file address the superblock declares (versions 0 to 3), or undefined when it cannot be read;
 * a file shorter than that was cut off.
 */
export function declaredEnd(head: Uint8Array, at: number): number | undefined {
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
export function guarded<T>(file: string, place: string, read: () => T): T {
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

export function attr(entity: Entity | null, name: string): unknown {
  if (!entity || !('attrs' in entity)) return undefined;
  const a = entity.attrs[name];
  return a ? a.value : undefined;
}

export function attrText(entity: Entity | null, name: string): string | undefined {
  const v = attr(entity, name);
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

export function numbers(value: unknown): number[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'number' || typeof value === 'bigint') return [Number(value)];
  if (ArrayBuffer.isView(value) || Array.isArray(value))
    return Array.from(value as ArrayLike<number | bigint>, Number);
  if (typeof value === 'object') return Object.values(value as Record<string, number>).map(Number);
  return [];
}

/** A dataset's values as a typed array of numbers: number arrays as read (no copy), 64-bit integers converted. */
export function numberArray(
  value: unknown,
):
  Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array {
  if (
    value instanceof Float64Array ||
    value instanceof Float32Array ||
    value instanceof Int32Array ||
    value instanceof Uint32Array ||
    value instanceof Int16Array ||
    value instanceof Uint16Array ||
    value instanceof Int8Array ||
    value instanceof Uint8Array
  )
    return value;
  return Float64Array.from(numbers(value));
}

export function isGroup(e: Entity | null): e is Group {
  return e instanceof h5wasm.Group;
}

export function isDataset(e: unknown): e is Dataset {
  return e instanceof h5wasm.Dataset;
}

export function child(group: Group, name: string): Entity | null {
  return group.keys().includes(name) ? group.get(name) : null;
}

export function strings(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return [value];
  return Array.from(value as ArrayLike<unknown>, (v) =>
    typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : String(v),
  );
}

export interface Frame {
  index: string[];
  columns: ObsColumn[];
  skipped: string[];
}

export class Reader {
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
