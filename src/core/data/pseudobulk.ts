/**
 * Pseudo-bulk: single-cell counts summed per (context, perturbation) and then treated exactly like bulk
 * counts (counts.ts: log2(CPM + 1), effect = treated - the same context's controls). One pass over the cells,
 * so memory grows with groups x genes, never with cells x genes.
 */
import { effectsFromCounts, type CountsMatrix } from './counts';
import type { SampleSheet, SheetRow } from './sample-sheet';
import { InputFailure, formatBinaryBytes, listSome, quoted, reject } from './failure';
import { CONTROL_NAMES, labelKey } from './labels';
import { fail, type ParseResult } from './result';
import { DEFAULT_MEMORY_BUDGET } from './source';
import { distinctValues, type ObsColumn, type SingleCellData } from './single-cell';
import { type EffectPart } from './table';
import { plural } from '../text';

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

export interface GroupCells {
  context: string;
  /** The perturbation label, or '' for the context's controls. */
  perturbation: string;
  cells: number;
  kept: boolean;
}

export interface Pseudobulk {
  /** Effects as every bulk format gives them (C x P x G, log2 CPM differences; basal per context). */
  part: EffectPart;
  groups: GroupCells[];
  cellsUsed: number;
  notes: string[];
}

export const DEFAULT_MIN_CELLS = 10;
const DEFAULT_DETECTED_FRACTION = 0.01;
const MIN_DETECTED_CELLS = 3;
const MAX_COUNT = 4294967295;

const CONTEXT_GUESS = [/^(context|cell_?line|cell_?type|celltype|donor)$/i, /cell.?line|cell.?type|donor/i];
const PERTURBATION_GUESS = [
  /^(perturbation|guide|gene|drug|treatment|target|pert|pert_iname)$/i,
  /perturb|guide|sgrna|target.?gene|drug|treatment|compound/i,
];
const CONTROL_GUESS = /^(non[-_ ]?targeting|nt|ntc|dmso|control|ctrl|vehicle|untreated)([-_ ]?\d+)?$/i;

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

function findObs(data: SingleCellData, name: string, role: string): ObsColumn {
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

async function build(data: SingleCellData, options: PseudobulkOptions): Promise<Pseudobulk> {
  const file = data.file;
  const minCells = options.minCells ?? DEFAULT_MIN_CELLS;
  const contextCol = findObs(data, options.contextColumn, 'context');
  const pertCol = findObs(data, options.perturbationColumn, 'perturbation');
  if (contextCol === pertCol) {
    reject({
      file,
      column: contextCol.name,
      expected: 'different columns for context and perturbation',
      found: 'the same column for both',
    });
  }
  if (!options.controls.length) {
    reject({
      file,
      column: pertCol.name,
      expected: 'at least one control label (e.g. non-targeting, DMSO, control)',
      found: 'none given',
    });
  }
  const controlKeys = new Set(options.controls.map(labelKey));
  const isControl = pertCol.categories.map((c) => controlKeys.has(labelKey(c)));
  const missing = options.controls.filter(
    (label) => !pertCol.categories.some((c) => labelKey(c) === labelKey(label)),
  );
  if (missing.length) {
    const values = pertCol.categories;
    const likely = values.filter((v) => CONTROL_GUESS.test(v.trim()) || CONTROL_NAMES.has(labelKey(v)));
    reject({
      file,
      column: pertCol.name,
      expected: `cells labelled ${missing.map((m) => quoted(m)).join(', ')} (control)`,
      found: `no such value among its ${plural(values.length, 'value')} (${listSome(
        (likely.length ? likely : values).map((v) => quoted(v, 24)),
        8,
      )})`,
    });
  }

  // Group cells: one group per (context, perturbation) and one control group per context.
  const C = contextCol.categories.length;
  const P = pertCol.categories.length;
  const CONTROL = P;
  const groupOf = new Int32Array(data.cells).fill(-1);
  const groupIndex = new Map<number, number>();
  const groupKeys: number[] = [];
  const groupCells: number[] = [];
  let unlabelled = 0;
  for (let cell = 0; cell < data.cells; cell++) {
    const c = contextCol.codes[cell];
    const p = pertCol.codes[cell];
    if (c < 0 || p < 0) {
      unlabelled++;
      continue;
    }
    const key = c * (P + 1) + (isControl[p] ? CONTROL : p);
    let g = groupIndex.get(key);
    if (g === undefined) {
      g = groupKeys.length;
      groupIndex.set(key, g);
      groupKeys.push(key);
      groupCells.push(0);
    }
    groupCells[g]++;
    groupOf[cell] = g;
  }
  const contextOf = (g: number) => contextCol.categories[Math.floor(groupKeys[g] / (P + 1))];
  const pertOf = (g: number) => {
    const p = groupKeys[g] % (P + 1);
    return p === CONTROL ? '' : pertCol.categories[p];
  };
  const kept = groupCells.map((n) => n >= minCells);
  const controlCells = new Array<number>(C).fill(0);
  const treatedKept = new Array<number>(C).fill(0);
  groupKeys.forEach((key, g) => {
    const c = Math.floor(key / (P + 1));
    if (key % (P + 1) === CONTROL) controlCells[c] += groupCells[g];
    else if (kept[g]) treatedKept[c]++;
  });
  for (let c = 0; c < C; c++) {
    if (!treatedKept[c] || controlCells[c] >= minCells) continue;
    reject({
      file,
      column: contextCol.name,
      expected: `at least ${minCells} control cells (${options.controls.map((l) => quoted(l)).join(', ')}) in context ${quoted(contextCol.categories[c])}`,
      found: controlCells[c]
        ? `${plural(controlCells[c], 'control cell')} (lower --min-cells to use them)`
        : `no control cells among its ${plural(treatedKept[c], 'perturbation')}`,
    });
  }
  const notes: string[] = [];
  const small = groupKeys.filter((key, g) => key % (P + 1) !== CONTROL && !kept[g]).length;
  if (small) {
    notes.push(
      `${file}: ${plural(small, '(context, perturbation) group')} with fewer than ${minCells} cells left out.`,
    );
  }
  if (unlabelled)
    notes.push(`${file}: ${plural(unlabelled, 'cell')} without a context or perturbation label left out.`);
  // Keep a context's control group only when that context has treated groups kept.
  groupKeys.forEach((key, g) => {
    if (key % (P + 1) === CONTROL) kept[g] = treatedKept[Math.floor(key / (P + 1))] > 0;
  });
  const samples: number[] = [];
  const slot = new Int32Array(groupKeys.length).fill(-1);
  kept.forEach((k, g) => {
    if (k) {
      slot[g] = samples.length;
      samples.push(g);
    }
  });
  if (!samples.length) {
    reject({
      file,
      column: pertCol.name,
      expected: `(context, perturbation) groups of at least ${minCells} cells with controls in the same context`,
      found: `none among ${plural(data.cells, 'cell')}`,
    });
  }
  const S = samples.length;
  const G = data.genes.length;
  const budget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET;
  if (G * S * 4 > budget) {
    reject({
      file,
      expected: `group sums within the memory budget of ${formatBinaryBytes(budget)}`,
      found: `${plural(S, 'group')} x ${plural(G, 'gene')} (${formatBinaryBytes(G * S * 4)})`,
    });
  }
  const sums = new Uint32Array(G * S);
  const detected = new Uint32Array(G);
  let cellsUsed = 0;
  samples.forEach((g) => (cellsUsed += groupCells[g]));
  await data.scan((cell, genes, counts, n) => {
    if (groupOf[cell] < 0) return;
    const s = slot[groupOf[cell]];
    if (s < 0) return;
    for (let i = 0; i < n; i++) {
      const v = counts[i];
      const g = genes[i];
      if (!(v >= 0) || !Number.isInteger(v)) {
        reject({
          file,
          column: data.countsPlace,
          expected: `whole, non-negative read counts (cell ${quoted(data.cellNames[cell] ?? String(cell + 1))}, gene ${quoted(data.genes[g] ?? String(g + 1))})`,
          found: `${v}, ${v < 0 ? 'a negative value' : 'a fractional value'}: normalised or scaled data, not counts`,
        });
      }
      if (v === 0) continue;
      detected[g]++;
      const at = g * S + s;
      sums[at] = Math.min(MAX_COUNT, sums[at] + v);
    }
  });
  const threshold = Math.max(
    MIN_DETECTED_CELLS,
    Math.ceil((options.minDetectedFraction ?? DEFAULT_DETECTED_FRACTION) * cellsUsed),
  );
  const genesKept: number[] = [];
  for (let g = 0; g < G; g++) if (detected[g] >= threshold) genesKept.push(g);
  if (!genesKept.length) {
    reject({
      file,
      column: data.countsPlace,
      expected: `genes detected in at least ${threshold} cells`,
      found: `none of ${plural(G, 'gene')}`,
    });
  }
  if (genesKept.length < G) {
    notes.push(
      `${file}: kept ${plural(genesKept.length, 'gene')} of ${G.toLocaleString('en-US')} detected in at least ${threshold} cells.`,
    );
  }
  const K = genesKept.length;
  const counts = new Uint32Array(K * S);
  genesKept.forEach((g, j) => counts.set(sums.subarray(g * S, (g + 1) * S), j * S));
  const sampleNames = samples.map((g) => `${contextOf(g)}\u0000${pertOf(g) || '(control)'}`);
  const matrix: CountsMatrix = {
    file,
    headerLine: 0,
    genes: genesKept.map((g) => data.genes[g]),
    samples: sampleNames,
    sampleColumns: samples.map((_, i) => i + 1),
    counts,
  };
  const rows: SheetRow[] = samples.map((g, i) => ({
    sample: sampleNames[i],
    line: i + 1,
    context: contextOf(g),
    perturbation: pertOf(g),
    control: pertOf(g) === '',
  }));
  const sheet: SampleSheet = {
    file: `${file} obs (${contextCol.name}, ${pertCol.name})`,
    rows,
    sampleColumn: 0,
    contextColumn: 0,
  };
  const part = effectsFromCounts(matrix, sheet, rows, notes);
  return {
    part: { ...part, file, format: 'single-cell', rows: data.cells },
    groups: groupKeys.map((_, g) => ({
      context: contextOf(g),
      perturbation: pertOf(g),
      cells: groupCells[g],
      kept: kept[g],
    })),
    cellsUsed,
    notes,
  };
}

/**
 * Pseudo-bulk effects from single-cell counts (cells x genes, reads). Counts are summed per (context,
 * perturbation) group over the cells of groups with at least `minCells` cells, genes detected in too few
 * cells are dropped, and the sums go through the bulk path: log2(CPM + 1), effect = treated - control of
 * the same context, basal = control log2(CPM + 1). Rejections (missing column, unknown control label, a
 * context without control cells, negative or fractional counts) name the file and the column or cell.
 */
export async function pseudobulk(
  data: SingleCellData,
  options: PseudobulkOptions,
): Promise<ParseResult<Pseudobulk>> {
  try {
    const result = await build(data, options);
    return { ok: true, data: result, notes: result.notes };
  } catch (e) {
    if (e instanceof InputFailure) return { ok: false, error: e.error };
    return fail({
      file: data.file,
      expected: 'single-cell data the pseudo-bulk step can use',
      found: `an internal error (${e instanceof Error ? e.message : String(e)})`,
    });
  }
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
