/**
 * Bulk counts (genes x samples) plus a sample sheet (sample-sheet.ts) (sample -> context, perturbation, control flag), turned
 * into effects: CPM, log2(CPM + 1), genes with mean CPM < 1 dropped, replicates averaged, and
 * effect = mean treated - mean control within each context; basal = mean control log2(CPM + 1).
 */
import { formatBinaryBytes, listSome, quoted, reject } from './failure';
import { geneKey, labelKey, normaliseName } from './labels';
import { Growable, LabelIndex } from './pairs';
import type { SampleSheet, SheetRow } from './sample-sheet';
import { NUM_OK, type Fields } from './records';
import {
  checkWidth,
  headerNames,
  isComment,
  labelAt,
  requireHeader,
  requireRows,
  type EffectPart,
  type ParseContext,
  type RecordSink,
} from './table';
import { plural } from '../text';

/** Annotation columns featureCounts writes between the gene id and the samples. */
const FEATURECOUNTS_COLUMNS: ReadonlySet<string> = new Set(['chr', 'start', 'end', 'strand', 'length']);
const MAX_COUNT = 4294967295;
/** Mean CPM below which a gene counts as not expressed. */
const MIN_MEAN_CPM = 1;

export interface CountsMatrix {
  file: string;
  headerLine: number;
  genes: string[];
  samples: string[];
  /** 1-based column of each sample in the file. */
  sampleColumns: number[];
  /** Gene-major: counts[g * samples + s]. */
  counts: Uint32Array;
}

export class CountsParser implements RecordSink<CountsMatrix> {
  private started = false;
  private headerLine = 0;
  private width = 0;
  private sampleCols: number[] = [];
  private samples: string[] = [];
  private readonly genes: string[] = [];
  private readonly geneRow = new Map<string, number>();
  private readonly counts = new Growable(new Uint32Array(4096), (n) => new Uint32Array(n));
  private duplicates = 0;
  private special: string[] = [];

  constructor(private readonly ctx: ParseContext) {}

  record(f: Fields): void {
    if (this.started) this.row(f);
    else if (!isComment(f)) this.header(f);
  }

  private header(f: Fields): void {
    const ctx = this.ctx;
    const names = headerNames(f);
    this.headerLine = f.line;
    this.width = names.length;
    let i = 1;
    while (i < names.length && FEATURECOUNTS_COLUMNS.has(normaliseName(names[i]))) i++;
    const seen = new Map<string, number>();
    for (; i < names.length; i++) {
      const name = names[i];
      if (name === '') {
        reject({
          file: ctx.file,
          line: f.line,
          column: i + 1,
          expected: 'a sample name',
          found: 'an empty header field',
        });
      }
      const first = seen.get(name);
      if (first !== undefined) {
        reject({
          file: ctx.file,
          line: f.line,
          column: i + 1,
          expected: 'each sample column once',
          found: `${quoted(name)} again (already column ${first + 1})`,
        });
      }
      seen.set(name, i);
      this.sampleCols.push(i);
      this.samples.push(name);
    }
    if (!this.samples.length) {
      reject({
        file: ctx.file,
        line: f.line,
        expected: 'a gene column followed by sample columns',
        found: 'no sample columns',
      });
    }
    this.started = true;
  }

  private row(f: Fields): void {
    const ctx = this.ctx;
    checkWidth(ctx, f, this.width, this.headerLine);
    const gene = labelAt(ctx, f, 0, 'gene');
    if (gene.startsWith('__')) {
      // htseq-count summary rows (__no_feature, __ambiguous, ...) are not genes.
      this.special.push(gene);
      return;
    }
    const S = this.samples.length;
    if ((this.counts.length + S) * 4 > ctx.budgetBytes) {
      reject({
        file: ctx.file,
        line: f.line,
        expected: `counts that fit the memory budget of ${formatBinaryBytes(ctx.budgetBytes)}`,
        found: `more than ${plural(this.genes.length, 'gene')} x ${plural(S, 'sample')} by this line`,
      });
    }
    const key = geneKey(gene);
    const existing = this.geneRow.get(key);
    const values: number[] = new Array<number>(S);
    for (let s = 0; s < S; s++) {
      const col = this.sampleCols[s];
      const v = f.num(col);
      if (f.status !== NUM_OK || v < 0 || !Number.isInteger(v) || v > MAX_COUNT) {
        const problem =
          f.status !== NUM_OK
            ? 'a missing or non-numeric value'
            : v < 0
              ? 'a negative count'
              : v > MAX_COUNT
                ? `a count above ${MAX_COUNT.toLocaleString('en-US')} (the largest the loader holds)`
                : 'a fractional count';
        reject({
          file: ctx.file,
          line: f.lineOf(col),
          column: col + 1,
          expected: `a whole, non-negative read count (gene ${quoted(gene)}, sample ${quoted(this.samples[s])})`,
          found: `${quoted(f.text(col))}, ${problem}`,
        });
      }
      values[s] = v;
    }
    if (existing !== undefined) {
      // Repeated gene ids (e.g. one symbol for several Ensembl genes) are summed, as aggregation tools do.
      const data = this.counts.data;
      for (let s = 0; s < S; s++)
        data[existing * S + s] = Math.min(MAX_COUNT, data[existing * S + s] + values[s]);
      this.duplicates++;
      return;
    }
    this.geneRow.set(key, this.genes.length);
    this.genes.push(gene);
    for (let s = 0; s < S; s++) this.counts.push(values[s]);
  }

  finish(): CountsMatrix {
    const ctx = this.ctx;
    requireHeader(ctx, this.started);
    requireRows(ctx, this.genes.length, this.headerLine);
    if (this.duplicates)
      ctx.notes.push(`${ctx.file}: ${plural(this.duplicates, 'repeated gene row')} summed into the first.`);
    if (this.special.length) ctx.notes.push(`${ctx.file}: skipped summary rows ${listSome(this.special)}.`);
    return {
      file: ctx.file,
      headerLine: this.headerLine,
      genes: this.genes,
      samples: this.samples,
      sampleColumns: this.sampleCols.map((c) => c + 1),
      counts: this.counts.data.subarray(0, this.counts.length),
    };
  }
}

/**
 * Effects from one counts matrix and the sheet rows of its samples. `sheetRows` must all name samples of
 * `matrix` (checked by the caller). Rejects a context without controls and samples with zero counts.
 */
export function effectsFromCounts(
  matrix: CountsMatrix,
  sheet: SampleSheet,
  sheetRows: readonly SheetRow[],
  notes: string[],
): EffectPart {
  const S = matrix.samples.length;
  const G = matrix.genes.length;
  const columnOf = new Map(matrix.samples.map((s, i) => [s, i]));
  const used = sheetRows.map((r) => columnOf.get(r.sample) as number);
  const N = used.length;
  const label = `${matrix.file} + ${sheet.file}`;

  const library = new Float64Array(N);
  for (let g = 0; g < G; g++) for (let k = 0; k < N; k++) library[k] += matrix.counts[g * S + used[k]];
  library.forEach((total, k) => {
    if (total === 0) {
      reject({
        file: matrix.file,
        line: matrix.headerLine,
        column: matrix.sampleColumns[used[k]],
        expected: `a sample with reads (sample ${quoted(matrix.samples[used[k]])})`,
        found: 'zero reads in every gene',
      });
    }
  });

  // Group samples: controls per context, treated per (context, perturbation).
  const contexts = new LabelIndex();
  const perturbations = new LabelIndex();
  const controlsOf = new Map<number, number[]>();
  const treatedOf = new Map<string, { c: number; p: number; samples: number[] }>();
  const firstLine = new Map<number, number>();
  sheetRows.forEach((row, k) => {
    const c = contexts.index(row.context);
    if (!firstLine.has(c)) firstLine.set(c, row.line);
    if (row.control) {
      const list = controlsOf.get(c) ?? [];
      list.push(k);
      controlsOf.set(c, list);
      return;
    }
    const p = perturbations.index(row.perturbation);
    const key = `${c}\u0000${p}`;
    const group = treatedOf.get(key) ?? { c, p, samples: [] };
    group.samples.push(k);
    treatedOf.set(key, group);
  });
  const withTreated = new Set([...treatedOf.values()].map((t) => t.c));
  for (const c of withTreated) {
    if (!controlsOf.has(c)) {
      const n = sheetRows.filter((r) => labelKey(r.context) === labelKey(contexts.labels[c])).length;
      reject({
        file: sheet.file,
        line: firstLine.get(c),
        column: sheet.contextColumn + 1,
        expected: `control samples (control, ctrl, DMSO, NTC, non-targeting, vehicle, or is_control) in context ${quoted(contexts.labels[c])}`,
        found: `none among its ${plural(n, 'sample')}`,
      });
    }
  }
  const controlOnly = contexts.labels.filter((_, c) => !withTreated.has(c));
  if (controlOnly.length) {
    notes.push(
      `${label}: ${plural(controlOnly.length, 'context')} with controls only left out: ${listSome(controlOnly)}.`,
    );
  }
  // Output contexts: those with treated samples, in order of first appearance.
  const outContexts = contexts.labels.filter((_, c) => withTreated.has(c));
  const outIndex = new Map(contexts.labels.map((_, c) => [c, outContexts.indexOf(contexts.labels[c])]));
  const C = outContexts.length;
  const P = perturbations.size;

  // Expression filter on mean CPM over the samples of the sheet.
  const kept: number[] = [];
  for (let g = 0; g < G; g++) {
    let sum = 0;
    for (let k = 0; k < N; k++) sum += (matrix.counts[g * S + used[k]] / library[k]) * 1e6;
    if (sum / N >= MIN_MEAN_CPM) kept.push(g);
  }
  if (!kept.length) {
    reject({
      file: matrix.file,
      expected: `genes with mean CPM of at least ${MIN_MEAN_CPM}`,
      found: `none of ${plural(G, 'gene')}`,
    });
  }
  if (kept.length < G) {
    notes.push(
      `${matrix.file}: dropped ${plural(G - kept.length, 'gene')} of ${G.toLocaleString('en-US')} with mean CPM < ${MIN_MEAN_CPM} (low expression).`,
    );
  }
  const K = kept.length;
  const values = new Float32Array(C * P * K);
  const observed = new Uint8Array(C * P);
  const replicates = new Uint16Array(C * P);
  const basal = new Float32Array(C * K);
  const logged = new Float64Array(N);
  const groups = [...treatedOf.values()];
  for (const t of groups) {
    const pair = (outIndex.get(t.c) as number) * P + t.p;
    observed[pair] = 1;
    replicates[pair] = Math.min(65535, t.samples.length);
  }
  let averaged = 0;
  for (const t of groups) if (t.samples.length > 1) averaged++;
  for (let j = 0; j < K; j++) {
    const g = kept[j];
    for (let k = 0; k < N; k++)
      logged[k] = Math.log2((matrix.counts[g * S + used[k]] / library[k]) * 1e6 + 1);
    for (const c of withTreated) {
      const controls = controlsOf.get(c) as number[];
      let m = 0;
      for (const k of controls) m += logged[k];
      basal[(outIndex.get(c) as number) * K + j] = m / controls.length;
    }
    for (const t of groups) {
      const oc = outIndex.get(t.c) as number;
      let m = 0;
      for (const k of t.samples) m += logged[k];
      values[(oc * P + t.p) * K + j] = m / t.samples.length - basal[oc * K + j];
    }
  }
  if (averaged)
    notes.push(
      `${label}: ${plural(averaged, '(context, perturbation) pair')} averaged over replicate samples.`,
    );
  return {
    file: label,
    format: 'counts',
    rows: G,
    tensor: {
      contexts: outContexts,
      perturbations: perturbations.labels,
      genes: kept.map((g) => matrix.genes[g]),
      values,
      observed,
      replicates,
      basal,
    },
  };
}
