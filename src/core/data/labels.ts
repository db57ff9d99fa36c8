/**
 * Column-name aliases (docs/DESIGN.md §6), delimiter detection and the keys used to match genes, contexts and
 * perturbations across rows and files.
 */

/** Header aliases, compared case-insensitively after trimming, as docs/DESIGN.md §6 summarises them. */
export const CONTEXT_ALIASES = ['context', 'cell_line', 'cell_type', 'cell_id', 'donor'] as const;
export const PERTURBATION_ALIASES = [
  'perturbation',
  'pert',
  'drug',
  'treatment',
  'target',
  'pert_iname',
] as const;
export const GENE_ALIASES = ['gene', 'gene_symbol', 'symbol', 'gene_id', 'gene_name', 'feature'] as const;
export const VALUE_ALIASES = [
  'value',
  'effect',
  'logfc',
  'log2fc',
  'log2foldchange',
  'lfc',
  'avg_log2fc',
  'z',
  'zscore',
  'score',
];
export const SAMPLE_ALIASES = ['sample', 'sample_id', 'sample_name', 'samplename', 'sampleid'] as const;
export const CONTROL_FLAG_ALIASES = ['is_control', 'iscontrol', 'is_ctrl', 'control'] as const;
export const DOSE_ALIASES = ['dose', 'pert_idose', 'pert_dose', 'concentration'] as const;
export const TIME_ALIASES = ['time', 'pert_itime', 'pert_time', 'timepoint'] as const;
/**
 * Columns of a wide table that describe a row rather than a gene; ignored (and named in a note) so that a
 * numeric "replicate" or "batch" column is never mistaken for a gene.
 */
export const ROW_METADATA_NAMES: ReadonlySet<string> = new Set([
  ...SAMPLE_ALIASES,
  ...DOSE_ALIASES,
  ...TIME_ALIASES,
  ...CONTROL_FLAG_ALIASES,
  'replicate',
  'rep',
  'batch',
  'plate',
  'well',
  'sig_id',
  'pert_id',
  'pert_type',
  'n',
  'n_cells',
  'ncells',
]);

/** Perturbation names that mark controls in a sample sheet (case-insensitive). */
export const CONTROL_NAMES: ReadonlySet<string> = new Set([
  'control',
  'ctrl',
  'dmso',
  'ntc',
  'non-targeting',
  'non_targeting',
  'nontargeting',
  'vehicle',
]);

export function normaliseName(name: string): string {
  return name.trim().toLowerCase();
}

/** Index of the first header cell that matches one of `aliases`, or -1. */
export function findColumn(header: readonly string[], aliases: readonly string[]): number {
  return header.findIndex((h) => aliases.includes(normaliseName(h)));
}

/** Matching key of a context or perturbation label: trimmed, case-insensitive. */
export function labelKey(label: string): string {
  return label.trim().toLowerCase();
}

const ENSEMBL_VERSIONED = /^(ENS[A-Z]*[GTP]\d+)\.\d+$/;

/**
 * Matching key of a gene: trimmed, upper-case, Ensembl version suffix removed
 * (ENSG00000141510.16 -> ENSG00000141510), so that spellings from different tools meet.
 */
export function geneKey(name: string): string {
  const up = name.trim().toUpperCase();
  const m = ENSEMBL_VERSIONED.exec(up);
  return m ? m[1] : up;
}

export type Delimiter = ',' | '\t' | ';';

/**
 * The delimiter of a header line: the most frequent of tab, comma and semicolon outside quotes; ties go to the
 * file-name hint (.tsv/.tab/.txt/.gct = tab, .csv = comma), then tab, comma, semicolon.
 */
export function detectDelimiter(headerLine: string, fileName: string): Delimiter {
  const counts: Record<Delimiter, number> = { '\t': 0, ',': 0, ';': 0 };
  let inQuotes = false;
  for (const ch of headerLine) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (ch === '\t' || ch === ',' || ch === ';')) counts[ch]++;
  }
  const name = fileName.toLowerCase().replace(/\.(gz|gzip|bgz)$/, '');
  const hint: Delimiter | undefined = /\.(tsv|tab|txt|gct)$/.test(name)
    ? '\t'
    : /\.csv$/.test(name)
      ? ','
      : undefined;
  const order: Delimiter[] = hint ? [hint, '\t', ',', ';'] : ['\t', ',', ';'];
  let best = order[0];
  for (const d of order) if (counts[d] > counts[best]) best = d;
  return best;
}
