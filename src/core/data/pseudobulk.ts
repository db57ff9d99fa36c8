/**
 * Pseudo-bulk: single-cell counts summed per (context, perturbation) and then treated exactly like bulk
 * counts (counts.ts: log2(CPM + 1), effect = treated - the same context's controls). One pass over the cells,
 * so memory grows with groups x genes, never with cells x genes.
 */
import { effectsFromCounts, type CountsMatrix } from './counts';
import type { SampleSheet, SheetRow } from './sample-sheet';
import { InputFailure, formatBinaryBytes, isAbortError, listSome, quoted, reject } from './failure';
import { CONTROL_NAMES, labelKey } from './labels';
import { fail, type ParseResult } from './result';
import { DEFAULT_MEMORY_BUDGET } from './source';
import type { ScanHooks, SingleCellData } from './single-cell';
import { type EffectPart } from './table';
import { plural } from '../text';
import { CONTROL_GUESS, DEFAULT_MIN_CELLS, findObs, type PseudobulkOptions } from './pseudobulk-choice';

export {
  DEFAULT_MIN_CELLS,
  groupSizes,
  guessColumns,
  type ColumnGuess,
  type GroupSizes,
  type PseudobulkOptions,
} from './pseudobulk-choice';

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

const DEFAULT_DETECTED_FRACTION = 0.01;
const MIN_DETECTED_CELLS = 3;
const MAX_COUNT = 4294967295;

/** Progress and stopping for the pass over the counts. */
export interface PseudobulkHooks {
  /**
   * Cells read of the input's cells: never decreasing, at most about 200 calls a pass, the last one with
   * `read === total` once every count is read.
   */
  onCells?(read: number, total: number): void;
  /** Polled between blocks of cells; true stops the pass with a DOMException named 'AbortError'. */
  shouldStop?(): boolean;
}

/** The reader's cell counts thinned to steps of 1/200 of the cells, ending with `total`. */
function thinnedProgress(total: number, hooks: PseudobulkHooks): ScanHooks & { finish(): void } {
  const step = Math.max(1, Math.ceil(total / 200));
  let shown = 0;
  const show = (read: number) => {
    shown = read;
    hooks.onCells?.(read, total);
  };
  return {
    onCells: (read) => {
      if (read >= shown + step && read < total) show(read);
    },
    shouldStop: hooks.shouldStop,
    finish: () => show(total),
  };
}

async function build(
  data: SingleCellData,
  options: PseudobulkOptions,
  hooks: PseudobulkHooks,
): Promise<Pseudobulk> {
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
  const progress = thinnedProgress(data.cells, hooks);
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
  }, progress);
  progress.finish();
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
 * Rejects only with an AbortError, when `hooks.shouldStop` asked to stop; nothing partial is kept.
 */
export async function pseudobulk(
  data: SingleCellData,
  options: PseudobulkOptions,
  hooks: PseudobulkHooks = {},
): Promise<ParseResult<Pseudobulk>> {
  try {
    const result = await build(data, options, hooks);
    return { ok: true, data: result, notes: result.notes };
  } catch (e) {
    if (isAbortError(e)) throw e;
    if (e instanceof InputFailure) return { ok: false, error: e.error };
    return fail({
      file: data.file,
      expected: 'single-cell data the pseudo-bulk step can use',
      found: `an internal error (${e instanceof Error ? e.message : String(e)})`,
    });
  }
}
