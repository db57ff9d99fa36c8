/**
 * Every input format the loader reports, with what a person is told about it. The name is what SourceInfo
 * and EffectPart carry; label and extensions feed the drop zone's hint and its file picker. A new format adds
 * its entry here and its sniff and parse to formats.ts (or, for single-cell input, single-cell-load.ts).
 */
export interface FormatInfo {
  /** How the drop zone names it, read in a list ("Accepted: a, b, c"). */
  label: string;
  /** File name endings the file picker offers for it (a .gz of any text format is accepted as well). */
  extensions: readonly string[];
}

const TEXT_TABLE = ['.csv', '.tsv', '.txt'] as const;

export const FORMAT_INFO = {
  wide: { label: 'a wide effects table (CSV/TSV)', extensions: TEXT_TABLE },
  long: { label: 'a long effects table (context, perturbation, gene, value)', extensions: TEXT_TABLE },
  gct: { label: 'GCT 1.2/1.3', extensions: ['.gct'] },
  counts: { label: 'a bulk counts matrix', extensions: TEXT_TABLE },
  'sample-sheet': {
    label: "the counts matrix's sample sheet (sample, context, perturbation, controls)",
    extensions: TEXT_TABLE,
  },
  'single-cell': {
    label:
      "single cells: an AnnData .h5ad, or a 10x folder's matrix.mtx, barcodes.tsv, features.tsv (and cells.csv)",
    extensions: ['.h5ad', '.mtx', '.tsv', '.csv'],
  },
} as const satisfies Record<string, FormatInfo>;

export type SourceFormat = keyof typeof FORMAT_INFO;
export const SOURCE_FORMATS = Object.keys(FORMAT_INFO) as SourceFormat[];

/** The file picker's accept list: every format's extensions and gzip, each once. */
export const ACCEPTED_EXTENSIONS: string = [
  ...new Set([...SOURCE_FORMATS.flatMap((f) => FORMAT_INFO[f].extensions), '.gz']),
].join(',');

/** One input file as the loader read it. */
export interface SourceInfo {
  file: string;
  format: SourceFormat;
  /** Data rows read: table rows, GCT signatures, counts-matrix genes or sample-sheet rows. */
  rows: number;
  contexts: number;
  perturbations: number;
  /** Genes this file contributed before files were intersected (0 for a sample sheet). */
  genes: number;
}
