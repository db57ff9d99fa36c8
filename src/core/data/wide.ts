/**
 * Wide effects table: context, perturbation (any alias), optional dose/time and row-metadata columns, then one
 * column per gene; one row per measurement, repeated pairs averaged. Streams row by row into PairSums.
 */
import { listSome, quoted, reject } from './failure';
import {
  CONTEXT_ALIASES,
  DOSE_ALIASES,
  PERTURBATION_ALIASES,
  ROW_METADATA_NAMES,
  TIME_ALIASES,
  findColumn,
  geneKey,
  normaliseName,
} from './labels';
import { LabelIndex, PairSums, averagedPairs, keptIndices } from './pairs';
import { NUM_MISSING, NUM_OK, type Fields } from './records';
import {
  applyMissingRule,
  checkWidth,
  headerNames,
  isComment,
  labelAt,
  noteAveraged,
  perturbationName,
  plural,
  rejectValue,
  requireHeader,
  requireLabelColumns,
  requireRows,
  type EffectPart,
  type ParseContext,
  type RecordSink,
} from './table';

/** Index columns written by pandas ("Unnamed: 0") or R (empty name) carry row numbers, not genes. */
function isIndexColumn(name: string): boolean {
  return name === '' || /^unnamed: \d+$/.test(name);
}

export class WideParser implements RecordSink<EffectPart> {
  private headerLine = 0;
  private width = 0;
  private contextCol = -1;
  private perturbationCol = -1;
  private doseCol = -1;
  private timeCol = -1;
  private geneCols = new Int32Array(0);
  private genes: string[] = [];
  private missing = new Uint32Array(0);
  private rows = 0;
  private readonly contexts = new LabelIndex();
  private readonly perturbations = new LabelIndex();
  private sums: PairSums | undefined;

  constructor(private readonly ctx: ParseContext) {}

  record(f: Fields): void {
    if (this.sums) this.row(f, this.sums);
    else if (!isComment(f)) this.header(f);
  }

  private header(f: Fields): void {
    const ctx = this.ctx;
    const names = headerNames(f);
    this.headerLine = f.line;
    this.width = names.length;
    this.contextCol = findColumn(names, CONTEXT_ALIASES);
    this.perturbationCol = findColumn(names, PERTURBATION_ALIASES);
    requireLabelColumns(ctx, f, this.contextCol, this.perturbationCol);
    this.doseCol = findColumn(names, DOSE_ALIASES);
    this.timeCol = findColumn(names, TIME_ALIASES);
    const labelCols = [this.contextCol, this.perturbationCol, this.doseCol, this.timeCol];
    const ignored: string[] = [];
    const geneCols: number[] = [];
    const firstByKey = new Map<string, number>();
    names.forEach((name, i) => {
      if (labelCols.includes(i)) return;
      const norm = normaliseName(name);
      if (isIndexColumn(norm)) {
        ignored.push(name === '' ? `(unnamed column ${i + 1})` : name);
        return;
      }
      if (
        ROW_METADATA_NAMES.has(norm) ||
        (CONTEXT_ALIASES as readonly string[]).includes(norm) ||
        (PERTURBATION_ALIASES as readonly string[]).includes(norm)
      ) {
        ignored.push(name);
        return;
      }
      const key = geneKey(name);
      const first = firstByKey.get(key);
      if (first !== undefined) {
        reject({
          file: ctx.file,
          line: f.line,
          column: i + 1,
          expected: 'each gene column once',
          found: `${quoted(name)} again (already column ${first + 1}, ${quoted(names[first])})`,
        });
      }
      firstByKey.set(key, i);
      geneCols.push(i);
    });
    if (!geneCols.length) {
      reject({
        file: ctx.file,
        line: f.line,
        expected: 'one column per gene after the context and perturbation columns',
        found: 'no gene columns',
      });
    }
    if (ignored.length) {
      ctx.notes.push(
        `${ctx.file}: ignored ${plural(ignored.length, 'non-gene column')}: ${listSome(ignored)}.`,
      );
    }
    if (ctx.keepDoseTime && this.doseCol < 0 && this.timeCol < 0) {
      ctx.notes.push(
        `${ctx.file}: no dose or time column, so perturbations are named by ${names[this.perturbationCol]} alone.`,
      );
    }
    this.geneCols = Int32Array.from(geneCols);
    this.genes = geneCols.map((i) => names[i]);
    this.missing = new Uint32Array(geneCols.length);
    this.sums = new PairSums(geneCols.length, ctx.budgetBytes, ctx.file);
  }

  private row(f: Fields, sums: PairSums): void {
    const ctx = this.ctx;
    checkWidth(ctx, f, this.width, this.headerLine);
    const c = this.contexts.index(labelAt(ctx, f, this.contextCol, 'context'));
    const p = this.perturbations.index(
      perturbationName(ctx, f, this.perturbationCol, this.doseCol, this.timeCol),
    );
    const s = sums.slot(c, p, f.line);
    const slab = sums.slab(s);
    const off = sums.offset(s);
    const cols = this.geneCols;
    const missing = this.missing;
    for (let j = 0; j < cols.length; j++) {
      const v = f.num(cols[j]);
      const status = f.status;
      if (status === NUM_OK) slab[off + j] += v;
      else if (status === NUM_MISSING) missing[j]++;
      else rejectValue(ctx, f, cols[j], `for gene ${quoted(this.genes[j])}`);
    }
    this.rows++;
  }

  finish(): EffectPart {
    const ctx = this.ctx;
    requireHeader(ctx, this.sums);
    const sums = this.sums as PairSums;
    requireRows(ctx, this.rows, this.headerLine);
    const dropped = applyMissingRule(ctx, this.missing, this.rows, this.genes, 'rows');
    const keep = keptIndices(dropped);
    const C = this.contexts.size;
    const P = this.perturbations.size;
    const dense = sums.build(C, P, keep);
    const avg = averagedPairs(dense.replicates);
    noteAveraged(ctx, avg.pairs, avg.rows);
    if (avg.pairs && !ctx.keepDoseTime && (this.doseCol >= 0 || this.timeCol >= 0)) {
      ctx.notes.push(
        `${ctx.file}: rows differing only in dose or time were among them (keep dose and time to separate them).`,
      );
    }
    return {
      file: ctx.file,
      format: 'wide',
      rows: this.rows,
      tensor: {
        contexts: this.contexts.labels,
        perturbations: this.perturbations.labels,
        genes: Array.from(keep, (g) => this.genes[g]),
        ...dense,
      },
    };
  }
}
