/**
 * GCT 1.2 and 1.3 (CMap, Morpheus, cmapPy): genes in rows, signatures in columns. In 1.3, column-metadata
 * rows map each signature to a context (cell_id) and a perturbation (pert_iname, optionally with pert_idose
 * and pert_itime); GCT 1.2 has no column metadata, so its signature ids must read "context|perturbation".
 * The dimension line gives G, C and P before any data row, so signatures are averaged straight into the
 * dense tensor, gene row by gene row, over the signatures of each pair that have a value for that gene.
 */
import { formatBinaryBytes, quoted, reject } from './failure';
import { EMPTY_META, labelSignatures, type MetaRow } from './gct-signatures';
import { geneKey, normaliseName } from './labels';
import { Growable, LabelIndex, averagedPairs } from './pairs';
import { NUM_MISSING, NUM_OK, type Fields } from './records';
import {
  applyMissingRule,
  checkWidth,
  keptCells,
  labelAt,
  noteAveraged,
  rejectValue,
  requireHeader,
  type EffectPart,
  type ParseContext,
  type RecordSink,
} from './table';
import { plural } from '../text';

const SYMBOL_META = ['pr_gene_symbol', 'gene_symbol', 'symbol', 'gene_name', 'pr_gene_name'];

/** "#1.2" / "#1.3" on the first line, or undefined. */
export function gctVersion(firstLine: string): '1.2' | '1.3' | undefined {
  const m = /^#1\.([23])(\s|$)/.exec(firstLine.trim().split('\t')[0] + ' ');
  return m ? (m[1] === '2' ? '1.2' : '1.3') : undefined;
}

export class GctParser implements RecordSink<EffectPart> {
  private stage: 'version' | 'dims' | 'header' | 'meta' | 'data' = 'version';
  private version: '1.2' | '1.3' = '1.3';
  private rowsDeclared = 0;
  private colsDeclared = 0;
  private rowMeta = 0;
  private colMeta = 0;
  private dimsLine = 2;
  private headerLine = 3;
  private width = 0;
  private offset = 0;
  private symbolCol = -1;
  private sampleIds: string[] = [];
  private readonly meta = new Map<string, MetaRow>();
  private readonly metaNames: string[] = [];
  private pairOf = new Int32Array(0);
  /** Each pair that has a signature, once. */
  private pairs = new Int32Array(0);
  /** Scratch for one gene row: signatures with a value, per pair. */
  private present = new Uint16Array(0);
  private readonly contexts = new LabelIndex();
  private readonly perturbations = new LabelIndex();
  private values = new Float32Array(0);
  private replicates = new Uint16Array(0);
  private geneIds: string[] = [];
  private symbols: string[] = [];
  private readonly idLine = new Map<string, number>();
  private missing = new Uint32Array(0);
  /** Missing cells as pair * G + gene row. */
  private readonly imputed = new Growable(new Uint32Array(64), (n) => new Uint32Array(n));

  constructor(private readonly ctx: ParseContext) {}

  record(f: Fields): void {
    switch (this.stage) {
      case 'version':
        return this.versionLine(f);
      case 'dims':
        return this.dimensions(f);
      case 'header':
        return this.header(f);
      case 'meta':
        return this.metaRow(f);
      case 'data':
        return this.dataRow(f);
    }
  }

  private versionLine(f: Fields): void {
    const version = gctVersion(f.text(0));
    if (!version) {
      reject({
        file: this.ctx.file,
        line: f.line,
        column: 1,
        expected: '"#1.2" or "#1.3"',
        found: quoted(f.text(0)),
      });
    }
    this.version = version;
    this.stage = 'dims';
  }

  private dimensions(f: Fields): void {
    const ctx = this.ctx;
    this.dimsLine = f.line;
    const need = this.version === '1.2' ? 2 : 4;
    const what =
      this.version === '1.2'
        ? 'rows and columns'
        : 'rows, columns, row-metadata columns and column-metadata rows';
    const dims: number[] = [];
    for (let i = 0; i < need; i++) {
      const v = i < f.count ? f.num(i) : NaN;
      if (i >= f.count || f.status !== NUM_OK || !Number.isInteger(v) || v < 0) {
        reject({
          file: ctx.file,
          line: f.line,
          column: i + 1,
          expected: `${need} whole numbers (${what}) on the GCT ${this.version} dimension line`,
          found: i < f.count ? quoted(f.text(i)) : 'the end of the line',
        });
      }
      dims.push(v);
    }
    for (const [i, what] of [
      [0, 'gene row'],
      [1, 'signature column'],
    ] as const) {
      // An empty GCT would otherwise fail later with a message about genes or contexts, not this line.
      if (dims[i] === 0) {
        reject({
          file: ctx.file,
          line: f.line,
          column: i + 1,
          expected: `at least one ${what} on the GCT ${this.version} dimension line`,
          found: '0',
        });
      }
    }
    [this.rowsDeclared, this.colsDeclared] = dims;
    this.rowMeta = dims[2] ?? 0;
    this.colMeta = dims[3] ?? 0;
    this.offset = this.version === '1.2' ? 2 : 1 + this.rowMeta;
    this.width = this.offset + this.colsDeclared;
    this.stage = 'header';
  }

  private header(f: Fields): void {
    const ctx = this.ctx;
    this.headerLine = f.line;
    let count = f.count;
    while (count > this.width && f.text(count - 1) === '') count--;
    if (count !== this.width) {
      reject({
        file: ctx.file,
        line: this.dimsLine,
        column: 2,
        expected: `a header whose columns match the dimension line (${this.colsDeclared} signatures after ${this.offset} id/metadata columns)`,
        found: `${count - this.offset} signature columns in the header on line ${f.line}`,
      });
    }
    for (let i = this.offset; i < this.width; i++) this.sampleIds.push(f.text(i));
    if (this.version === '1.3') {
      const names: string[] = [];
      for (let i = 1; i < this.offset; i++) names.push(normaliseName(f.text(i)));
      const at = SYMBOL_META.map((n) => names.indexOf(n)).find((i) => i >= 0);
      this.symbolCol = at === undefined ? -1 : at + 1;
    }
    this.stage = this.colMeta > 0 ? 'meta' : 'data';
    if (this.colMeta === 0) this.mapSignatures();
  }

  private metaRow(f: Fields): void {
    checkWidth(this.ctx, f, this.width, this.headerLine);
    const name = f.text(0);
    this.metaNames.push(name);
    const key = normaliseName(name);
    if (!this.meta.has(key)) {
      const values: string[] = [];
      for (let i = this.offset; i < this.width; i++) values.push(f.text(i));
      this.meta.set(key, { line: f.line, values });
    }
    if (this.metaNames.length === this.colMeta) {
      this.mapSignatures();
      this.stage = 'data';
    }
  }

  /** Maps every signature column to a (context, perturbation) pair and allocates the dense tensor. */
  private mapSignatures(): void {
    const ctx = this.ctx;
    const n = this.colsDeclared;
    const { contextOf, pertOf } = labelSignatures({
      ctx,
      meta: this.meta,
      metaNames: this.metaNames,
      sampleIds: this.sampleIds,
      offset: this.offset,
      headerLine: this.headerLine,
      version: this.version,
    });
    this.pairOf = new Int32Array(n);
    const cIdx = contextOf.map((c) => this.contexts.index(c));
    const pIdx = pertOf.map((p) => this.perturbations.index(p));
    const C = this.contexts.size;
    const P = this.perturbations.size;
    const G = this.rowsDeclared;
    const bytes = C * P * G * 4;
    if (bytes > ctx.budgetBytes) {
      reject({
        file: ctx.file,
        line: this.dimsLine,
        expected: `a dense tensor within the memory budget of ${formatBinaryBytes(ctx.budgetBytes)}`,
        found: `${C} contexts x ${P} perturbations x ${G} genes (${formatBinaryBytes(bytes)})`,
      });
    }
    this.replicates = new Uint16Array(C * P);
    const pairs: number[] = [];
    for (let j = 0; j < n; j++) {
      const pair = cIdx[j] * P + pIdx[j];
      this.pairOf[j] = pair;
      if (this.replicates[pair] === 0) pairs.push(pair);
      if (this.replicates[pair] < 65535) this.replicates[pair]++;
    }
    this.pairs = Int32Array.from(pairs);
    this.present = new Uint16Array(C * P);
    this.values = new Float32Array(C * P * G);
    this.missing = new Uint32Array(G);
  }

  private dataRow(f: Fields): void {
    const ctx = this.ctx;
    const r = this.geneIds.length;
    if (r >= this.rowsDeclared) {
      reject({
        file: ctx.file,
        line: this.dimsLine,
        column: 1,
        expected: `${plural(this.rowsDeclared, 'gene row')}, as the dimension line declares`,
        found: `more: line ${f.line} is gene row ${r + 1}`,
      });
    }
    checkWidth(ctx, f, this.width, this.headerLine);
    const id = labelAt(ctx, f, 0, 'gene id');
    const key = geneKey(id);
    const first = this.idLine.get(key);
    if (first !== undefined) {
      reject({
        file: ctx.file,
        line: f.line,
        column: 1,
        expected: 'each gene id once',
        found: `${quoted(id)} again (already on line ${first})`,
      });
    }
    this.idLine.set(key, f.line);
    this.geneIds.push(id);
    this.symbols.push(this.symbolCol >= 0 ? f.text(this.symbolCol) : '');
    const G = this.rowsDeclared;
    const values = this.values;
    const pairOf = this.pairOf;
    const present = this.present;
    for (let j = 0; j < this.colsDeclared; j++) {
      const col = this.offset + j;
      const v = f.num(col);
      if (f.status === NUM_OK) {
        values[pairOf[j] * G + r] += v;
        if (present[pairOf[j]] < 65535) present[pairOf[j]]++;
      } else if (f.status !== NUM_MISSING)
        rejectValue(ctx, f, col, `for gene ${quoted(id)} in signature ${quoted(this.sampleIds[j])}`);
    }
    // A missing value drops out of its pair's mean; the pair misses the gene only when all its signatures do.
    let missing = 0;
    for (const pair of this.pairs) {
      const k = present[pair];
      if (k === 0) {
        missing++;
        this.imputed.push(pair * G + r);
      } else if (k > 1) values[pair * G + r] /= k;
      present[pair] = 0;
    }
    this.missing[r] = missing;
  }

  /** Gene names: the symbol metadata where every row has a distinct one, else the row ids. */
  private geneNames(): string[] {
    if (this.symbolCol < 0) return this.geneIds;
    const names = this.geneIds.map((id, r) =>
      EMPTY_META.has(this.symbols[r].toLowerCase()) ? id : this.symbols[r],
    );
    const keys = new Set(names.map(geneKey));
    if (keys.size === names.length) return names;
    this.ctx.notes.push(
      `${this.ctx.file}: gene symbols repeat across rows, so genes are named by their row ids.`,
    );
    return this.geneIds;
  }

  finish(): EffectPart {
    const ctx = this.ctx;
    requireHeader(ctx, this.stage !== 'version');
    if (this.stage !== 'data') {
      const expected =
        this.stage === 'dims'
          ? 'the dimension line'
          : this.stage === 'header'
            ? 'the header line'
            : `${plural(this.colMeta, 'column-metadata row')}, as the dimension line declares`;
      reject({ file: ctx.file, line: this.dimsLine, expected, found: 'the end of the file' });
    }
    const G = this.rowsDeclared;
    if (this.geneIds.length !== G) {
      reject({
        file: ctx.file,
        line: this.dimsLine,
        column: 1,
        expected: `${plural(G, 'gene row')}, as the dimension line declares`,
        found: plural(this.geneIds.length, 'gene row'),
      });
    }
    const names = this.geneNames();
    const dropped = applyMissingRule(
      ctx,
      this.missing,
      this.pairs.length,
      names,
      '(context, perturbation) pairs',
    );
    const keep: number[] = [];
    for (let g = 0; g < G; g++) if (!dropped[g]) keep.push(g);
    const C = this.contexts.size;
    const P = this.perturbations.size;
    const K = keep.length;
    const values = K === G ? this.values : new Float32Array(C * P * K);
    const observed = new Uint8Array(C * P);
    for (const pair of this.pairs) {
      observed[pair] = 1;
      if (K < G) for (let j = 0; j < K; j++) values[pair * K + j] = this.values[pair * G + keep[j]];
    }
    const avg = averagedPairs(this.replicates);
    noteAveraged(ctx, avg.pairs, avg.rows, 'signatures');
    return {
      file: ctx.file,
      format: 'gct',
      rows: this.colsDeclared,
      imputed: keptCells(this.imputed.data, this.imputed.length, G, dropped),
      tensor: {
        contexts: this.contexts.labels,
        perturbations: this.perturbations.labels,
        genes: keep.map((g) => names[g]),
        values,
        observed,
        replicates: this.replicates,
      },
    };
  }
}
