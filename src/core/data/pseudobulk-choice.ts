/**
 * Choosing how to pseudo-bulk: the options, column look-up with "did you mean", likely columns and control
 * labels guessed from names, and cells per group from the annotations alone (no counts read).
 */
import { listSome, quoted, reject } from './failure';
import { labelKey } from './labels';
import { distinctValues, type ObsColumn, type SingleCellData } from './single-cell';

export interface PseudobulkOptions {
  /** obs column naming each cell's context (cell line, cell type, donor). */
  contextColumn: string;
  /** obs column naming each cell's perturbation; control cells carry one of `controls`. */
  perturbationColumn: string;
  /** Perturbation labels of control cells (case-insensitive); several allowed. */
  controls: readonly string[];
  /** Fewest cells a (context, perturbation) group, controls included, needs to be kept. Default 10. */
  minCells?: number;
  /**
   * A gene is kept when detected (count > 0) in at least this fraction of the cells used, and in at least
   * 3 cells. Default 0.01. Perturbation labels play no part in it, so no gene is chosen for its effect.
   */
  minDetectedFraction?: number;
  /** Bytes the per-group sums (groups x genes, 4 bytes each) may take; default DEFAULT_MEMORY_BUDGET. */
  memoryBudgetBytes?: number;
}

export const DEFAULT_MIN_CELLS = 10;

const CONTEXT_GUESS = [/^(context|cell_?line|cell_?type|celltype|donor)$/i, /cell.?line|cell.?type|donor/i];
const PERTURBATION_GUESS = [
  /^(perturbation|guide|gene|drug|treatment|target|pert|pert_iname)$/i,
  /perturb|guide|sgrna|target.?gene|drug|treatment|compound/i,
];
export const CONTROL_GUESS = /^(non[-_ ]?targeting|nt|ntc|dmso|control|ctrl|vehicle|untreated)([-_ ]?\d+)?$/i;

/** Edit distance, for "did you mean" suggestions on short column names. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = d[j];
      d[j] = next;
    }
  }
  return d[b.length];
}

export function findObs(data: SingleCellData, name: string, role: string): ObsColumn {
  const exact = data.obs.find((c) => c.name === name);
  const loose = exact ?? data.obs.find((c) => labelKey(c.name) === labelKey(name));
  if (loose) return loose;
  const names = data.obs.map((c) => c.name);
  const near = names.filter((n) => distance(labelKey(n), labelKey(name)) <= 2);
  reject({
    file: data.file,
    column: name,
    expected: `an obs column for the ${role}${near.length ? ` (did you mean ${near.map((n) => quoted(n)).join(' or ')}?)` : ''}`,
    found: names.length
      ? `no such column; the obs columns are ${listSome(
          names.map((n) => quoted(n)),
          12,
        )}`
      : 'no obs columns at all',
  });
}

export interface ColumnGuess {
  context?: string;
  perturbation?: string;
  controls: string[];
}

/**
 * Likely context and perturbation columns (by name: cell line, cell type, donor; perturbation, guide, gene,
 * drug, treatment) and control labels (non-targeting, NT, DMSO, control...) for pre-selecting choices.
 */
export function guessColumns(data: Pick<SingleCellData, 'obs'>): ColumnGuess {
  const pick = (patterns: RegExp[], not?: string) => {
    for (const p of patterns) {
      const hit = data.obs.find((c) => c.name !== not && p.test(c.name) && distinctValues(c) > 1);
      if (hit) return hit;
    }
    return undefined;
  };
  const context = pick(CONTEXT_GUESS);
  const perturbation = pick(PERTURBATION_GUESS, context?.name);
  const controls = perturbation ? perturbation.categories.filter((c) => CONTROL_GUESS.test(c.trim())) : [];
  return { context: context?.name, perturbation: perturbation?.name, controls };
}

export interface GroupSizes {
  /** Treated groups with at least minCells cells, and all treated groups. */
  kept: number;
  groups: number;
  /** Cells per kept treated group, ascending. */
  sizes: number[];
  /** Contexts with treated groups kept but fewer than minCells control cells. */
  contextsWithoutControls: string[];
}

/**
 * Cells per (context, perturbation) group for a choice of columns, from the annotations alone (no counts are
 * read), so that a UI can show them while the choice is being made. Unknown columns give zero groups.
 */
export function groupSizes(
  data: Pick<SingleCellData, 'obs' | 'cells'>,
  options: PseudobulkOptions,
): GroupSizes {
  const minCells = options.minCells ?? DEFAULT_MIN_CELLS;
  const ctx = data.obs.find((c) => c.name === options.contextColumn);
  const pert = data.obs.find((c) => c.name === options.perturbationColumn);
  if (!ctx || !pert || ctx === pert) return { kept: 0, groups: 0, sizes: [], contextsWithoutControls: [] };
  const keys = new Set(options.controls.map(labelKey));
  const control = pert.categories.map((c) => keys.has(labelKey(c)));
  const P = pert.categories.length;
  const counts = new Map<number, number>();
  const controls = new Map<number, number>();
  for (let cell = 0; cell < data.cells; cell++) {
    const c = ctx.codes[cell];
    const p = pert.codes[cell];
    if (c < 0 || p < 0) continue;
    if (control[p]) controls.set(c, (controls.get(c) ?? 0) + 1);
    else counts.set(c * P + p, (counts.get(c * P + p) ?? 0) + 1);
  }
  const sizes = [...counts.values()].filter((n) => n >= minCells).sort((a, b) => a - b);
  const withKept = new Set(
    [...counts.entries()].filter(([, n]) => n >= minCells).map(([k]) => Math.floor(k / P)),
  );
  const contextsWithoutControls = [...withKept]
    .filter((c) => (controls.get(c) ?? 0) < minCells)
    .map((c) => ctx.categories[c]);
  return { kept: sizes.length, groups: counts.size, sizes, contextsWithoutControls };
}
