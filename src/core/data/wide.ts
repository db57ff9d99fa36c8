/**
 * Wide effects table: context, perturbation (any alias), optional dose/time and row-metadata columns, then one
 * column per gene; one row per measurement, repeated pairs averaged.
 *
 * Two streaming passes keep memory at the output tensor plus small buffers: WideLabelScan reads only the
 * label columns (contexts, perturbations, row count), so that C x P x G is known and checked against the
 * budget before any value is parsed; WideParser then adds every row straight into the dense tensor. Pairs
 * with several rows also count, per gene, the rows that had a value, so that a missing value drops out of
 * the mean instead of counting as 0.
 */
import { formatBinaryBytes, listSome, quoted, reject } from './failure';
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
import { Growable, LabelIndex, averagedPairs, keptIndices } from './pairs';
import { NUM_MISSING, NUM_OK, type Fields } from './records';
import {
  applyMissingRule,
  checkWidth,
  keptCells,
  headerNames,
  isComment,
  labelAt,
  noteAveraged,
  perturbationName,
  rejectValue,
  requireHeader,
  requireLabelColumns,
  requireRows,
  type EffectPart,
  type ParseContext,
  type RecordSink,
} from './table';
import { plural } from '../text';

/** Index columns written by pandas ("Unnamed: 0") or R (empty name) carry row numbers, not genes. */
function isIndexColumn(name: string): boolean {
  return name === '' || /^unnamed: \d+$/.test(name);
}

interface WideLayout {
  headerLine: number;
  width: number;
  contextCol: number;
  perturbationCol: number;
  doseCol: number;
  timeCol: number;
  geneCols: Int32Array;
  genes: string[];
  /** Header names of ignored (index and row-metadata) columns. */
  ignored: string[];
  perturbationName: string;
}

/** Reads and validates the header: label columns, gene columns (each once), ignored metadata columns. */
function wideLayout(ctx: ParseContext, f: Fields): WideLayout {
  const names = headerNames(f);
  const contextCol = findColumn(names, CONTEXT_ALIASES);
  const perturbationCol = findColumn(names, PERTURBATION_ALIASES);
  requireLabelColumns(ctx, f, contextCol, perturbationCol);
  const doseCol = findColumn(names, DOSE_ALIASES);
  const timeCol = findColumn(names, TIME_ALIASES);
  const labelCols = [contextCol, perturbationCol, doseCol, timeCol];
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
  return {
    headerLine: f.line,
    width: names.length,
    contextCol,
    perturbationCol,
    doseCol,
    timeCol,
    geneCols: Int32Array.from(geneCols),
    genes: geneCols.map((i) => names[i]),
    ignored,
    perturbationName: names[perturbationCol],
  };
}

export interface WideLabels {
  layout: WideLayout;
  contexts: LabelIndex;
  perturbations: LabelIndex;
  rows: number;
  /** Length C*P: rows of each (context, perturbation) pair. */
  rowsPerPair: Uint32Array;
}

/** Pass 1: the header and the label columns of every row. */
export class WideLabelScan implements RecordSink<WideLabels> {
  private layout: WideLayout | undefined;
  private readonly contexts = new LabelIndex();
  private readonly perturbations = new LabelIndex();
  private rows = 0;
  private readonly rowContext = new Growable(new Int32Array(1024), (n) => new Int32Array(n));
  private readonly rowPerturbation = new Growable(new Int32Array(1024), (n) => new Int32Array(n));
  /** Fields the tokenizer needs to split per row: all for the header, then just past the label columns. */
  fieldLimit = Infinity;

  constructor(private readonly ctx: ParseContext) {}

  record(f: Fields): void {
    const layout = this.layout;
    if (!layout) {
      if (isComment(f)) return;
      this.layout = wideLayout(this.ctx, f);
      const l = this.layout;
      this.fieldLimit = Math.max(l.contextCol, l.perturbationCol, l.doseCol, l.timeCol) + 2;
      return;
    }
    // A row split into fewer fields than the limit was split completely: too short for its labels.
    if (f.count < this.fieldLimit) checkWidth(this.ctx, f, layout.width, layout.headerLine);
    this.rowContext.push(this.contexts.index(labelAt(this.ctx, f, layout.contextCol, 'context')));
    this.rowPerturbation.push(
      this.perturbations.index(
        perturbationName(this.ctx, f, layout.perturbationCol, layout.doseCol, layout.timeCol),
      ),
    );
    this.rows++;
  }

  finish(): WideLabels {
    requireHeader(this.ctx, this.layout);
    const layout = this.layout as WideLayout;
    requireRows(this.ctx, this.rows, layout.headerLine);
    const C = this.contexts.size;
    const P = this.perturbations.size;
    const G = layout.genes.length;
    const rowsPerPair = new Uint32Array(C * P);
    for (let r = 0; r < this.rows; r++)
      rowsPerPair[this.rowContext.data[r] * P + this.rowPerturbation.data[r]]++;
    const bytes = C * P * G * 4 + replicatedPairs(rowsPerPair) * G * counterBytes(rowsPerPair);
    if (bytes > this.ctx.budgetBytes) {
      reject({
        file: this.ctx.file,
        expected: `a dense tensor within the memory budget of ${formatBinaryBytes(this.ctx.budgetBytes)}`,
        found: `${C} contexts x ${P} perturbations x ${G} genes (${formatBinaryBytes(bytes)})`,
      });
    }
    return {
      layout,
      contexts: this.contexts,
      perturbations: this.perturbations,
      rows: this.rows,
      rowsPerPair,
    };
  }
}

function replicatedPairs(rowsPerPair: Uint32Array): number {
  let n = 0;
  for (const r of rowsPerPair) if (r > 1) n++;
  return n;
}

/** Bytes per counter of present values: 2 unless a pair has more rows than a Uint16 holds. */
function counterBytes(rowsPerPair: Uint32Array): 2 | 4 {
  for (const r of rowsPerPair) if (r > 65535) return 4;
  return 2;
}

/** Pass 2: every value, added into the dense tensor sized by pass 1. */
export class WideParser implements RecordSink<EffectPart> {
  private started = false;
  private readonly values: Float32Array;
  private readonly rowsPerPair: Uint32Array;
  /** Missing (context, perturbation, gene) cells per gene: no row of the pair had a value. */
  private readonly missing: Uint32Array;
  /** Per pair with several rows, its slot in `present`; -1 for the others. */
  private readonly slotOf: Int32Array;
  /** Rows with a value, per slot and gene. */
  private readonly present: Uint16Array | Uint32Array;
  /** Missing cells as pair * G + gene. */
  private readonly imputed = new Growable(new Uint32Array(64), (n) => new Uint32Array(n));
  private rows = 0;

  constructor(
    private readonly ctx: ParseContext,
    private readonly labels: WideLabels,
  ) {
    const C = labels.contexts.size;
    const P = labels.perturbations.size;
    this.values = new Float32Array(C * P * labels.layout.genes.length);
    const G = labels.layout.genes.length;
    this.rowsPerPair = new Uint32Array(C * P);
    this.missing = new Uint32Array(G);
    this.slotOf = new Int32Array(C * P).fill(-1);
    let slots = 0;
    labels.rowsPerPair.forEach((n, pair) => {
      if (n > 1) this.slotOf[pair] = slots++;
    });
    this.present =
      counterBytes(labels.rowsPerPair) === 4 ? new Uint32Array(slots * G) : new Uint16Array(slots * G);
  }

  record(f: Fields): void {
    if (this.started) this.row(f);
    else if (!isComment(f)) this.header(f);
  }

  private header(f: Fields): void {
    const again = wideLayout(this.ctx, f);
    const layout = this.labels.layout;
    if (again.width !== layout.width || again.headerLine !== layout.headerLine) {
      reject({
        file: this.ctx.file,
        line: f.line,
        expected: 'the same file on both reads',
        found: 'a file that changed while it was read',
      });
    }
    const ctx = this.ctx;
    if (layout.ignored.length) {
      ctx.notes.push(
        `${ctx.file}: ignored ${plural(layout.ignored.length, 'non-gene column')}: ${listSome(layout.ignored)}.`,
      );
    }
    if (ctx.keepDoseTime && layout.doseCol < 0 && layout.timeCol < 0) {
      ctx.notes.push(
        `${ctx.file}: no dose or time column, so perturbations are named by ${layout.perturbationName} alone.`,
      );
    }
    this.started = true;
  }

  private row(f: Fields): void {
    const ctx = this.ctx;
    const layout = this.labels.layout;
    checkWidth(ctx, f, layout.width, layout.headerLine);
    const contexts = this.labels.contexts;
    const perturbations = this.labels.perturbations;
    const C = contexts.size;
    const P = perturbations.size;
    const c = contexts.index(labelAt(ctx, f, layout.contextCol, 'context'));
    const p = perturbations.index(
      perturbationName(ctx, f, layout.perturbationCol, layout.doseCol, layout.timeCol),
    );
    if (c >= C || p >= P) {
      reject({
        file: ctx.file,
        line: f.line,
        expected: 'the same file on both reads',
        found: 'a file that changed while it was read',
      });
    }
    const pair = c * P + p;
    this.rowsPerPair[pair]++;
    const cols = layout.geneCols;
    const G = cols.length;
    const values = this.values;
    const missing = this.missing;
    const off = pair * G;
    const slot = this.slotOf[pair];
    const present = this.present;
    const at = slot * G;
    for (let j = 0; j < G; j++) {
      const v = f.num(cols[j]);
      const status = f.status;
      if (status === NUM_OK) {
        values[off + j] += v;
        if (slot >= 0) present[at + j]++;
      } else if (status === NUM_MISSING) {
        // A pair with several rows is missing a gene only when every row misses it; counted in finish().
        if (slot < 0) {
          missing[j]++;
          this.imputed.push(off + j);
        }
      } else rejectValue(ctx, f, cols[j], `for gene ${quoted(layout.genes[j])}`);
    }
    this.rows++;
  }

  finish(): EffectPart {
    const ctx = this.ctx;
    const layout = this.labels.layout;
    if (!this.started || this.rows !== this.labels.rows) {
      reject({
        file: ctx.file,
        expected: 'the same file on both reads',
        found: 'a file that changed while it was read',
      });
    }
    const C = this.labels.contexts.size;
    const P = this.labels.perturbations.size;
    const G = layout.genes.length;
    const values = this.values;
    const observed = new Uint8Array(C * P);
    const replicates = new Uint16Array(C * P);
    let pairs = 0;
    for (let pair = 0; pair < C * P; pair++) {
      const n = this.rowsPerPair[pair];
      if (!n) continue;
      pairs++;
      observed[pair] = 1;
      replicates[pair] = Math.min(n, 65535);
      const slot = this.slotOf[pair];
      if (slot < 0) continue;
      for (let j = 0; j < G; j++) {
        const k = this.present[slot * G + j];
        if (k === 0) {
          this.missing[j]++;
          this.imputed.push(pair * G + j);
        } else if (k > 1) values[pair * G + j] /= k;
      }
    }
    const dropped = applyMissingRule(ctx, this.missing, pairs, layout.genes, '(context, perturbation) pairs');
    const keep = keptIndices(dropped);
    const K = keep.length;
    // Compacting in place is safe: the destination (pair * K + j) never passes the source (pair * G + keep[j]).
    if (K < G)
      for (let pair = 0; pair < C * P; pair++)
        for (let j = 0; j < K; j++) values[pair * K + j] = values[pair * G + keep[j]];
    const avg = averagedPairs(replicates);
    noteAveraged(ctx, avg.pairs, avg.rows);
    if (avg.pairs && !ctx.keepDoseTime && (layout.doseCol >= 0 || layout.timeCol >= 0)) {
      ctx.notes.push(
        `${ctx.file}: rows differing only in dose or time were among them (keep dose and time to separate them).`,
      );
    }
    return {
      file: ctx.file,
      format: 'wide',
      rows: this.rows,
      imputed: keptCells(this.imputed.data, this.imputed.length, G, dropped),
      tensor: {
        contexts: this.labels.contexts.labels,
        perturbations: this.labels.perturbations.labels,
        genes: Array.from(keep, (g) => layout.genes[g]),
        values: K < G ? values.slice(0, C * P * K) : values,
        observed,
        replicates,
      },
    };
  }
}
