/**
 * Long effects table: one row per (context, perturbation, gene, value). Rows are kept as compact triples
 * (12 bytes each) while streaming, since neither genes nor pairs are known until the end.
 */
import { formatBinaryBytes, listSome, quoted, reject } from './failure';
import {
  CONTEXT_ALIASES,
  DOSE_ALIASES,
  GENE_ALIASES,
  PERTURBATION_ALIASES,
  ROW_METADATA_NAMES,
  TIME_ALIASES,
  VALUE_ALIASES,
  findColumn,
  normaliseName,
} from './labels';
import { GeneIndex, Growable, LabelIndex, averagedPairs } from './pairs';
import { NUM_MISSING, NUM_OK, type Fields } from './records';
import {
  applyMissingRule,
  checkWidth,
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

const PAIR_KEY_STRIDE = 2 ** 24;
const BYTES_PER_ROW = 12;

/**
 * True when a header names the context, perturbation and gene columns of a long table; its value column
 * may have any name (see valueColumn), so that a renamed one is not taken for a wide table's gene.
 */
export function isLongHeader(names: readonly string[]): boolean {
  return (
    findColumn(names, CONTEXT_ALIASES) >= 0 &&
    findColumn(names, PERTURBATION_ALIASES) >= 0 &&
    findColumn(names, GENE_ALIASES) >= 0
  );
}

/**
 * The value column: the first whose name is a value alias, else the one column that is neither a label nor
 * row metadata (whatever tool named it); several such columns, or none, are refused naming the candidates.
 */
function valueColumn(ctx: ParseContext, f: Fields, labels: readonly number[]): number {
  const names = headerNames(f);
  const byAlias = findColumn(names, VALUE_ALIASES);
  if (byAlias >= 0) return byAlias;
  const candidates = names
    .map((_, i) => i)
    .filter(
      (i) => !labels.includes(i) && names[i] !== '' && !ROW_METADATA_NAMES.has(normaliseName(names[i])),
    );
  if (candidates.length === 1) {
    ctx.notes.push(`${ctx.file}: the column ${quoted(names[candidates[0]])} was read as the effect values.`);
    return candidates[0];
  }
  reject({
    file: ctx.file,
    line: f.line,
    expected: `one value column (${VALUE_ALIASES.join(', ')}), or a single numeric column besides the labels`,
    found: candidates.length
      ? `the candidate columns ${listSome(candidates.map((i) => quoted(names[i], 24)))}; rename the one to use "value"`
      : 'no column besides the labels',
  });
}

export class LongParser implements RecordSink<EffectPart> {
  private headerLine = 0;
  private width = 0;
  private cols = { context: -1, perturbation: -1, gene: -1, value: -1, dose: -1, time: -1 };
  private started = false;
  private rows = 0;
  private readonly contexts = new LabelIndex();
  private readonly perturbations = new LabelIndex();
  private readonly genes = new GeneIndex();
  private readonly slotOf = new Map<number, number>();
  private readonly slotContext: number[] = [];
  private readonly slotPerturbation: number[] = [];
  private readonly rowSlot = new Growable(new Int32Array(1024), (n) => new Int32Array(n));
  private readonly rowGene = new Growable(new Int32Array(1024), (n) => new Int32Array(n));
  /** NaN marks a missing value. */
  private readonly rowValue = new Growable(new Float32Array(1024), (n) => new Float32Array(n));

  constructor(private readonly ctx: ParseContext) {}

  record(f: Fields): void {
    if (this.started) this.row(f);
    else if (!isComment(f)) this.header(f);
  }

  private header(f: Fields): void {
    const names = headerNames(f);
    this.headerLine = f.line;
    this.width = names.length;
    const context = findColumn(names, CONTEXT_ALIASES);
    const perturbation = findColumn(names, PERTURBATION_ALIASES);
    const gene = findColumn(names, GENE_ALIASES);
    const dose = findColumn(names, DOSE_ALIASES);
    const time = findColumn(names, TIME_ALIASES);
    requireLabelColumns(this.ctx, f, context, perturbation);
    const value = valueColumn(this.ctx, f, [context, perturbation, gene, dose, time]);
    this.cols = { context, perturbation, gene, value, dose, time };
    this.started = true;
  }

  private row(f: Fields): void {
    const ctx = this.ctx;
    const cols = this.cols;
    checkWidth(ctx, f, this.width, this.headerLine);
    if ((this.rows + 1) * BYTES_PER_ROW > ctx.budgetBytes) {
      reject({
        file: ctx.file,
        line: f.line,
        expected: `rows that fit the memory budget of ${formatBinaryBytes(ctx.budgetBytes)}`,
        found: `more than ${this.rows.toLocaleString('en-US')} rows by this line`,
      });
    }
    const c = this.contexts.index(labelAt(ctx, f, cols.context, 'context'));
    const p = this.perturbations.index(perturbationName(ctx, f, cols.perturbation, cols.dose, cols.time));
    const g = this.genes.index(labelAt(ctx, f, cols.gene, 'gene'));
    const key = c * PAIR_KEY_STRIDE + p;
    let s = this.slotOf.get(key);
    if (s === undefined) {
      s = this.slotContext.length;
      this.slotOf.set(key, s);
      this.slotContext.push(c);
      this.slotPerturbation.push(p);
    }
    const v = f.num(cols.value);
    if (f.status !== NUM_OK && f.status !== NUM_MISSING)
      rejectValue(ctx, f, cols.value, `for gene ${quoted(f.text(cols.gene))}`);
    this.rowSlot.push(s);
    this.rowGene.push(g);
    this.rowValue.push(f.status === NUM_OK ? v : NaN);
    this.rows++;
  }

  finish(): EffectPart {
    const ctx = this.ctx;
    requireHeader(ctx, this.started);
    requireRows(ctx, this.rows, this.headerLine);
    const S = this.slotContext.length;
    const G = this.genes.size;
    const C = this.contexts.size;
    const P = this.perturbations.size;
    const bytes = S * G * 6 + C * P * G * 4;
    if (bytes > ctx.budgetBytes) {
      reject({
        file: ctx.file,
        expected: `a dense tensor within the memory budget of ${formatBinaryBytes(ctx.budgetBytes)}`,
        found: `${C} contexts x ${P} perturbations x ${G} genes (${formatBinaryBytes(bytes)} while building)`,
      });
    }
    const sums = new Float32Array(S * G);
    const counts = new Uint16Array(S * G);
    const slots = this.rowSlot.data;
    const genes = this.rowGene.data;
    const values = this.rowValue.data;
    for (let r = 0; r < this.rows; r++) {
      const v = values[r];
      if (v !== v) continue;
      const at = slots[r] * G + genes[r];
      sums[at] += v;
      if (counts[at] < 65535) counts[at]++;
    }
    const missing = new Uint32Array(G);
    const replicates = new Uint16Array(S);
    for (let s = 0; s < S; s++) {
      for (let g = 0; g < G; g++) {
        const n = counts[s * G + g];
        if (n === 0) missing[g]++;
        else if (n > replicates[s]) replicates[s] = n;
      }
    }
    const dropped = applyMissingRule(ctx, missing, S, this.genes.names, '(context, perturbation) pairs');
    const keep: number[] = [];
    for (let g = 0; g < G; g++) if (!dropped[g]) keep.push(g);
    const K = keep.length;
    const out = new Float32Array(C * P * K);
    const observed = new Uint8Array(C * P);
    const pairReplicates = new Uint16Array(C * P);
    const imputed = new Growable(new Uint32Array(64), (n) => new Uint32Array(n));
    for (let s = 0; s < S; s++) {
      const pair = this.slotContext[s] * P + this.slotPerturbation[s];
      observed[pair] = 1;
      pairReplicates[pair] = Math.max(1, replicates[s]);
      for (let j = 0; j < K; j++) {
        const at = s * G + keep[j];
        const n = counts[at];
        if (n) out[pair * K + j] = sums[at] / n;
        else imputed.push(pair * K + j);
      }
    }
    const avg = averagedPairs(pairReplicates);
    noteAveraged(ctx, avg.pairs, avg.rows, 'rows per gene');
    return {
      file: ctx.file,
      format: 'long',
      rows: this.rows,
      imputed: imputed.data.subarray(0, imputed.length),
      tensor: {
        contexts: this.contexts.labels,
        perturbations: this.perturbations.labels,
        genes: keep.map((g) => this.genes.names[g]),
        values: out,
        observed,
        replicates: pairReplicates,
      },
    };
  }
}
