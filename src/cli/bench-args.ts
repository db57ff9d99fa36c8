/**
 * Command-line options of the benchmark CLIs, all read with node:util's parseArgs (strict: an unknown option
 * is refused with its name). Both `--mb 200` and `--mb=200` are accepted.
 */
import { parseArgs } from 'node:util';

export type ParsedArgs<T> = { ok: true; data: T } | { ok: false; reason: string };

/** A number > 0 (an integer when asked), or why the option's text is not one. */
export function positiveNumber(
  text: string,
  option: string,
  integer = false,
): { ok: true; data: number } | { ok: false; reason: string } {
  const value = Number(text);
  if (text.trim() === '' || !(value > 0) || (integer && !Number.isInteger(value))) {
    return {
      ok: false,
      reason: `--${option} must be a positive ${integer ? 'integer' : 'number'}, not "${text}".`,
    };
  }
  return { ok: true, data: value };
}

/** The options of the parse benchmarks: the synthetic table's size and gzip, and one switch of their own. */
export interface TableArgs {
  mb: number;
  genes: number;
  gzip: boolean;
}

/**
 * `--mb N` (default 200) `--genes N` (default 5000) `--gzip` and the switch `own` (`--keep`, `--json`), as
 * given after the script's name.
 */
export function tableArgs<Own extends string>(
  argv: readonly string[],
  own: Own,
): ParsedArgs<TableArgs & Record<Own, boolean>> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        mb: { type: 'string', default: '200' },
        genes: { type: 'string', default: '5000' },
        gzip: { type: 'boolean', default: false },
        [own]: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    return {
      ok: false,
      reason: `${error instanceof Error ? error.message : String(error)}; use --mb N --genes N --gzip --${own}`,
    };
  }
  const mb = positiveNumber(String(values.mb), 'mb');
  if (!mb.ok) return mb;
  const genes = positiveNumber(String(values.genes), 'genes', true);
  if (!genes.ok) return genes;
  const data = { mb: mb.data, genes: genes.data, gzip: values.gzip === true, [own]: values[own] === true };
  return { ok: true, data: data as TableArgs & Record<Own, boolean> };
}
