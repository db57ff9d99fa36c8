/**
 * Which (context, perturbation) each GCT signature column measures: from the cell_id and pert_iname
 * column-metadata rows of GCT 1.3 (optionally with dose and time), else from ids written
 * "context|perturbation".
 */
import { listSome, quoted, reject } from './failure';
import { CONTEXT_ALIASES, PERTURBATION_ALIASES } from './labels';
import type { ParseContext } from './table';

const CONTEXT_META = ['cell_id', 'cell_iname', ...CONTEXT_ALIASES];
const PERTURBATION_META = ['pert_iname', ...PERTURBATION_ALIASES];
const DOSE_META = ['pert_idose', 'pert_dose', 'dose'];
const TIME_META = ['pert_itime', 'pert_time', 'time'];
/** Placeholders CMap writes for "no value". */
export const EMPTY_META: ReadonlySet<string> = new Set(['', 'na', 'nan', '-666', '-666.0']);
const ID_SEPARATOR = '|';

export interface MetaRow {
  line: number;
  values: string[];
}

function pickRow(meta: ReadonlyMap<string, MetaRow>, names: readonly string[]): MetaRow | undefined {
  for (const n of names) {
    const row = meta.get(n);
    if (row) return row;
  }
  return undefined;
}

export interface SignatureSource {
  ctx: ParseContext;
  /** Column-metadata rows by normalised name. */
  meta: ReadonlyMap<string, MetaRow>;
  /** Column-metadata row names as written, for messages. */
  metaNames: readonly string[];
  /** Signature ids from the header, one per signature column. */
  sampleIds: readonly string[];
  /** Columns before the first signature (id, description, row metadata). */
  offset: number;
  headerLine: number;
  version: '1.2' | '1.3';
}

/** Context and perturbation label of each signature column (length: sampleIds). */
export function labelSignatures(source: SignatureSource): { contextOf: string[]; pertOf: string[] } {
  const { ctx, meta, metaNames, sampleIds, offset, headerLine, version } = source;
  const n = sampleIds.length;
  const contextRow = pickRow(meta, CONTEXT_META);
  const pertRow = pickRow(meta, PERTURBATION_META);
  const doseRow = pickRow(meta, DOSE_META);
  const timeRow = pickRow(meta, TIME_META);
  const contextOf: string[] = [];
  const pertOf: string[] = [];
  if (contextRow && pertRow) {
    const metaValue = (row: MetaRow, j: number, what: string): string => {
      const v = row.values[j];
      if (EMPTY_META.has(v.toLowerCase())) {
        reject({
          file: ctx.file,
          line: row.line,
          column: offset + j + 1,
          expected: `a ${what} for signature ${quoted(sampleIds[j])}`,
          found: v === '' ? 'an empty field' : quoted(v),
        });
      }
      return v;
    };
    for (let j = 0; j < n; j++) {
      contextOf.push(metaValue(contextRow, j, 'context'));
      let pert = metaValue(pertRow, j, 'perturbation');
      if (ctx.keepDoseTime) {
        const parts = [pert];
        if (doseRow) parts.push(doseRow.values[j]);
        if (timeRow) parts.push(timeRow.values[j]);
        pert = parts.join('@');
      }
      pertOf.push(pert);
    }
    if (ctx.keepDoseTime && !doseRow && !timeRow) {
      ctx.notes.push(
        `${ctx.file}: no pert_idose or pert_itime rows, so perturbations are named by drug alone.`,
      );
    }
  } else {
    for (let j = 0; j < n; j++) {
      const id = sampleIds[j];
      const cut = id.indexOf(ID_SEPARATOR);
      if (cut <= 0 || cut === id.length - 1) {
        const metaHint =
          version === '1.3'
            ? `column-metadata rows ${listSome(metaNames.map((m) => quoted(m, 20)))} without cell_id and pert_iname`
            : 'no column metadata (GCT 1.2)';
        reject({
          file: ctx.file,
          line: headerLine,
          column: offset + j + 1,
          expected:
            'cell_id and pert_iname column-metadata rows (GCT 1.3), or signature ids written "context|perturbation"',
          found: `${metaHint} and the id ${quoted(id)}`,
        });
      }
      contextOf.push(id.slice(0, cut));
      pertOf.push(id.slice(cut + 1));
    }
  }
  return { contextOf, pertOf };
}
