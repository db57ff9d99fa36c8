import type { SimulatedCounts, SampleSheetRow } from '../simulate/simulator';
import type { EffectTensor } from './tensor';

/**
 * Text writers for the tables the app reads (docs/DESIGN.md §6): lines end with '\n' (the last one too),
 * fields are quoted as in RFC 4180 when they hold the delimiter, a quote or a line break.
 */
export type Delimiter = ',' | '\t';

export interface WriteOptions {
  /** Field separator, default ','. */
  delimiter?: Delimiter;
  /**
   * Significant digits of numbers (Number.toPrecision), default 6; trailing zeros are dropped. 'float32':
   * the shortest text (6 to 9 digits) that reads back as the same float32, for lossless round trips.
   */
  digits?: number | 'float32';
}

/** Quotes a field when it contains the delimiter, a double quote, CR or LF (quotes are doubled). */
export function quoteField(field: string, delimiter: Delimiter = ','): string {
  if (field.includes(delimiter) || field.includes('"') || field.includes('\n') || field.includes('\r')) {
    return `"${field.replace(/"/g, '""')}"`;
  }
  return field;
}

/**
 * A number with `digits` significant digits and no trailing zeros ("0.5", "-1.25e-7", "1200");
 * non-finite values (missing) are written as an empty field.
 */
export function formatFieldNumber(value: number, digits = 6): string {
  if (!Number.isFinite(value)) return '';
  if (value === 0) return '0';
  const text = value.toPrecision(digits);
  const e = text.indexOf('e');
  const mantissa = e < 0 ? text : text.slice(0, e);
  const exponent = e < 0 ? '' : text.slice(e);
  if (!mantissa.includes('.')) return text;
  return mantissa.replace(/0+$/, '').replace(/\.$/, '') + exponent;
}

/** The shortest of 6 to 9 significant digits that parses back to the float32 `value` (9 always does). */
export function formatFloat32(value: number): string {
  for (let digits = 6; digits < 9; digits++) {
    const text = formatFieldNumber(value, digits);
    if (Math.fround(Number(text)) === value) return text;
  }
  return formatFieldNumber(value, 9);
}

const resolve = (options: WriteOptions | undefined): { d: Delimiter; digits: number | 'float32' } => ({
  d: options?.delimiter ?? ',',
  digits: options?.digits ?? 6,
});

const line = (fields: readonly string[], d: Delimiter): string => fields.map((f) => quoteField(f, d)).join(d);

/** Numbers need no quoting (digits, '.', '-', 'e', '+'), so they are joined directly. */
function numberLine(
  labels: readonly string[],
  values: ArrayLike<number>,
  start: number,
  count: number,
  d: Delimiter,
  digits: number | 'float32',
): string {
  const parts = new Array<string>(count);
  if (digits === 'float32') for (let i = 0; i < count; i++) parts[i] = formatFloat32(values[start + i]);
  else for (let i = 0; i < count; i++) parts[i] = formatFieldNumber(values[start + i], digits);
  return (labels.length ? line(labels, d) + d : '') + parts.join(d);
}

/**
 * Wide effects table: header `context<d>perturbation<d>gene1...`, then one row per observed pair
 * (contexts in order, perturbations in order within each), one effect per gene.
 */
export function formatWideTable(tensor: EffectTensor, options?: WriteOptions): string {
  const { d, digits } = resolve(options);
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const lines = [line(['context', 'perturbation', ...tensor.genes], d)];
  for (let c = 0; c < C; c++) {
    for (let p = 0; p < P; p++) {
      if (!tensor.observed[c * P + p]) continue;
      lines.push(
        numberLine(
          [tensor.contexts[c], tensor.perturbations[p]],
          tensor.values,
          (c * P + p) * G,
          G,
          d,
          digits,
        ),
      );
    }
  }
  return lines.join('\n') + '\n';
}

export interface EffectRow {
  context: string;
  perturbation: string;
  /** One value per gene, in the order of the genes argument (length G); non-finite values are left empty. */
  values: ArrayLike<number>;
}

/** Wide table of arbitrary rows (e.g. predictions), same layout as formatWideTable. */
export function formatEffectRows(
  rows: readonly EffectRow[],
  genes: readonly string[],
  options?: WriteOptions,
): string {
  const { d, digits } = resolve(options);
  const lines = [line(['context', 'perturbation', ...genes], d)];
  rows.forEach((row, i) => {
    if (row.values.length !== genes.length) {
      throw new RangeError(
        `formatEffectRows: row ${i + 1} has ${row.values.length} values for ${genes.length} genes`,
      );
    }
    lines.push(numberLine([row.context, row.perturbation], row.values, 0, genes.length, d, digits));
  });
  return lines.join('\n') + '\n';
}

/** Counts matrix: header `gene<d>sample1...`, then one row of integer counts per gene. */
export function formatCountsMatrix(counts: SimulatedCounts, options?: WriteOptions): string {
  const { d } = resolve(options);
  const S = counts.samples.length;
  if (counts.values.length !== counts.genes.length * S) {
    throw new RangeError(
      `formatCountsMatrix: ${counts.values.length} counts for ${counts.genes.length} genes x ${S} samples`,
    );
  }
  const lines = [line(['gene', ...counts.samples], d)];
  counts.genes.forEach((gene, g) => {
    const row = Array.prototype.join.call(counts.values.subarray(g * S, (g + 1) * S), d);
    lines.push(S > 0 ? quoteField(gene, d) + d + row : quoteField(gene, d));
  });
  return lines.join('\n') + '\n';
}

/** Sample sheet: header `sample<d>context<d>perturbation<d>is_control`, is_control written as true/false. */
export function formatSampleSheet(sheet: readonly SampleSheetRow[], options?: WriteOptions): string {
  const { d } = resolve(options);
  const lines = [line(['sample', 'context', 'perturbation', 'is_control'], d)];
  for (const row of sheet) {
    lines.push(line([row.sample, row.context, row.perturbation, row.isControl ? 'true' : 'false'], d));
  }
  return lines.join('\n') + '\n';
}
