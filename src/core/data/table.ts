/** Pieces shared by the delimited-table parsers: per-file context, header checks, row checks, parts. */
import { listSome, quoted, reject } from './failure';
import { CONTEXT_ALIASES, PERTURBATION_ALIASES } from './labels';
import { NUM_INFINITE, NUM_MISSING, type Fields } from './records';
import type { SourceFormat } from './format-info';
import type { EffectTensor } from './tensor';
import { plural } from '../text';

export interface ParseContext {
  /** The file name as the user gave it. */
  file: string;
  keepDoseTime: boolean;
  budgetBytes: number;
  /** Notes for the user, each naming its file. */
  notes: string[];
}

/** One file's (or one counts matrix's) contribution, already dense; merged later across files. */
export interface EffectPart {
  /** Names of the files it came from, for notes and errors. */
  file: string;
  format: SourceFormat;
  tensor: EffectTensor;
  /** Data rows read (lines of effects, GCT signatures, or counts-matrix genes). */
  rows: number;
  /**
   * Indices into tensor.values of the cells set to 0 by the missing-value rule, so that merging files can
   * take them from another file's measurement of the pair instead.
   */
  imputed?: Uint32Array;
}

/**
 * Imputed cells recorded as pair * G + g, renumbered for the kept genes (pair * K + j) in place (an output
 * index never passes its input's), cells of dropped genes left out; returns the filled prefix.
 */
export function keptCells(cells: Uint32Array, count: number, G: number, dropped: Uint8Array): Uint32Array {
  const column = new Int32Array(G);
  let K = 0;
  for (let g = 0; g < G; g++) column[g] = dropped[g] ? -1 : K++;
  let n = 0;
  for (let i = 0; i < count; i++) {
    const pair = Math.floor(cells[i] / G);
    const j = column[cells[i] - pair * G];
    if (j >= 0) cells[n++] = pair * K + j;
  }
  return cells.subarray(0, n);
}

/** Parsers get records one by one from the RecordReader and build their result at the end. */
export interface RecordSink<T> {
  record(f: Fields): void;
  finish(): T;
}

/** A line before the header that starts with "#" is a comment (tools write provenance there). */
export function isComment(f: Fields): boolean {
  return f.text(0).startsWith('#');
}

export function headerNames(f: Fields): string[] {
  const names: string[] = [];
  for (let i = 0; i < f.count; i++) names.push(f.text(i));
  return names;
}

/** True when most header cells parse as numbers: the file starts with data, not with a header. */
export function looksLikeData(f: Fields): boolean {
  let numeric = 0;
  for (let i = 0; i < f.count; i++) {
    f.num(i);
    if (f.status === 0) numeric++;
  }
  return numeric * 2 >= f.count && numeric > 0;
}

/** Rejects a header without a context or perturbation column (or a data row where a header should be). */
export function requireLabelColumns(
  ctx: ParseContext,
  f: Fields,
  contextCol: number,
  perturbationCol: number,
): void {
  if (contextCol >= 0 && perturbationCol >= 0) return;
  const names = headerNames(f);
  if (looksLikeData(f)) {
    reject({
      file: ctx.file,
      line: f.line,
      expected: 'a header line naming the columns (context, perturbation, then genes)',
      found: `a line of data: ${quoted(names.slice(0, 4).join(', '))}`,
    });
  }
  const found = `the columns ${listSome(names.map((n) => quoted(n, 24)))}`;
  if (contextCol < 0) {
    reject({
      file: ctx.file,
      line: f.line,
      expected: `a context column (${CONTEXT_ALIASES.join(', ')})`,
      found,
    });
  }
  reject({
    file: ctx.file,
    line: f.line,
    expected: `a perturbation column (${PERTURBATION_ALIASES.join(', ')})`,
    found,
  });
}

/** Data rows must have as many fields as the header; extra fields are tolerated only when empty. */
export function checkWidth(ctx: ParseContext, f: Fields, width: number, headerLine: number): void {
  if (f.count === width) return;
  if (f.count > width) {
    let extraEmpty = true;
    for (let i = width; i < f.count && extraEmpty; i++) extraEmpty = f.text(i) === '';
    if (extraEmpty) return;
  }
  reject({
    file: ctx.file,
    line: f.line,
    column: Math.min(f.count, width) + 1,
    expected: `${width} fields, as in the header on line ${headerLine}`,
    found: plural(f.count, 'field'),
  });
}

/** A non-empty label (context, perturbation, gene, sample) from field `col`. */
export function labelAt(ctx: ParseContext, f: Fields, col: number, what: string): string {
  const text = f.text(col);
  if (text === '') {
    reject({
      file: ctx.file,
      line: f.lineOf(col),
      column: col + 1,
      expected: `a ${what} name`,
      found: 'an empty field',
    });
  }
  return text;
}

/** Rejects the value in field `col` after num() set a status other than OK or missing. */
export function rejectValue(ctx: ParseContext, f: Fields, col: number, what: string): never {
  const text = f.text(col);
  if (f.status === NUM_INFINITE) {
    reject({
      file: ctx.file,
      line: f.lineOf(col),
      column: col + 1,
      expected: `a finite number ${what}`,
      found: quoted(text),
    });
  }
  reject({
    file: ctx.file,
    line: f.lineOf(col),
    column: col + 1,
    expected: `a number ${what}`,
    found: f.status === NUM_MISSING ? 'a missing value' : quoted(text),
  });
}

/** "drug@dose@time" when dose/time are kept, else the drug alone. */
export function perturbationName(
  ctx: ParseContext,
  f: Fields,
  pertCol: number,
  doseCol: number,
  timeCol: number,
): string {
  const base = labelAt(ctx, f, pertCol, 'perturbation');
  if (!ctx.keepDoseTime || (doseCol < 0 && timeCol < 0)) return base;
  const parts = [base];
  if (doseCol >= 0) parts.push(f.text(doseCol));
  if (timeCol >= 0) parts.push(f.text(timeCol));
  return parts.join('@');
}

/** Rejects a table that has a header but no data rows. */
export function requireRows(ctx: ParseContext, rows: number, headerLine: number): void {
  if (rows > 0) return;
  reject({
    file: ctx.file,
    line: headerLine + 1,
    expected: 'data rows after the header',
    found: 'no data rows',
  });
}

/** Rejects a file that never produced a header (empty, or only blank and comment lines). */
export function requireHeader(ctx: ParseContext, header: unknown): void {
  if (header) return;
  reject({
    file: ctx.file,
    expected: 'a table with a header line',
    found: 'an empty file (only blank or comment lines)',
  });
}

/**
 * The missing-value rule (README, "Missing values"): a missing value drops out of the mean of its pair's
 * replicates; a (context, perturbation, gene) missing in every replicate is missing. A gene missing in more
 * than half of the `total` pairs is dropped; every other missing cell is imputed as 0 (no change). Both are
 * reported in notes. `missing` counts missing cells per gene. Returns a 0/1 drop flag per gene.
 */
export function applyMissingRule(
  ctx: ParseContext,
  missing: Uint32Array,
  total: number,
  genes: readonly string[],
  unit: string,
): Uint8Array {
  const dropped = new Uint8Array(genes.length);
  const droppedNames: string[] = [];
  let imputed = 0;
  for (let g = 0; g < genes.length; g++) {
    if (missing[g] * 2 > total) {
      dropped[g] = 1;
      droppedNames.push(genes[g]);
    } else imputed += missing[g];
  }
  if (droppedNames.length === genes.length) {
    reject({
      file: ctx.file,
      expected: `genes with values in at least half of the ${unit}`,
      found: `every gene missing in more than half of the ${unit}`,
    });
  }
  if (droppedNames.length) {
    ctx.notes.push(
      `${ctx.file}: dropped ${plural(droppedNames.length, 'gene')} missing in more than half of the ${unit}: ${listSome(droppedNames)}.`,
    );
  }
  if (imputed) {
    ctx.notes.push(
      `${ctx.file}: ${plural(imputed, 'missing value')} (empty, NA, NaN, null) set to 0, i.e. no change.`,
    );
  }
  return dropped;
}

/** Note on pairs that averaged several rows. */
export function noteAveraged(ctx: ParseContext, pairs: number, rows: number, what = 'rows'): void {
  if (pairs) {
    ctx.notes.push(
      `${ctx.file}: ${plural(pairs, '(context, perturbation) pair')} had repeated ${what} (${rows.toLocaleString('en-US')} in all), averaged.`,
    );
  }
}
