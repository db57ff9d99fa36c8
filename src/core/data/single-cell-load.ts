/**
 * Single-cell inputs (.h5ad files, 10x folders) from opening to the EffectTensor: describe what each holds,
 * pseudo-bulk each with the same columns, merge them on their shared genes. Used by the CLI and the worker.
 */
import { InputFailure, isAbortError, reject } from './failure';
import { openH5ad, type H5adInput, type H5adSummary } from './h5ad';
import type { SourceInfo } from './format-info';
import type { LoadedDataset } from './load';
import { checkTransferable, mergeParts } from './merge';
import { openMtx } from './mtx';
import { geneOverlap } from './overlap';
import {
  guessColumns,
  pseudobulk,
  type ColumnGuess,
  type GroupCells,
  type PseudobulkOptions,
} from './pseudobulk';
import { fail, type ParseResult } from './result';
import { distinctValues, type SingleCellData } from './single-cell';
import { DEFAULT_MEMORY_BUDGET, type InputFile } from './source';
import type { EffectPart } from './table';

export type SingleCellSource =
  { kind: 'h5ad'; input: H5adInput } | { kind: 'mtx'; folder: string; files: readonly InputFile[] };

/**
 * What a single-cell input declares: an .h5ad file's summary (for MTX: layout "10x Matrix Market" and no
 * matrices), its format and the likely context and perturbation columns and control labels.
 */
export interface SingleCellSummary extends H5adSummary {
  format: 'h5ad' | 'mtx';
  guess: ColumnGuess;
}

export interface OpenedCells {
  summary: SingleCellSummary;
  /** Present when the input holds counts. */
  data?: SingleCellData;
  notes: string[];
  close(): void;
}

/** Opens one single-cell input; `counts` picks the .h5ad matrix ("X", "raw/X", "layers/NAME"). */
export async function openSingleCell(
  source: SingleCellSource,
  options: { counts?: string } = {},
): Promise<ParseResult<OpenedCells>> {
  if (source.kind === 'h5ad') {
    const opened = await openH5ad(source.input, options);
    if (!opened.ok) return opened;
    const { summary, data, close } = opened.data;
    const guess = data ? guessColumns(data) : { controls: [] };
    return {
      ok: true,
      data: { summary: { ...summary, format: 'h5ad', guess }, data, notes: [], close },
      notes: [],
    };
  }
  const opened = await openMtx(source.files, source.folder);
  if (!opened.ok) return opened;
  const { data, notes } = opened.data;
  const guess = guessColumns(data);
  const lacks: string[] = [];
  if (!data.obs.length)
    lacks.push("no cells.csv or cells.tsv naming each barcode's context and perturbation");
  else {
    if (!guess.context)
      lacks.push('no cells.csv column that looks like a context (cell line, cell type, donor)');
    if (!guess.perturbation)
      lacks.push(
        'no cells.csv column that looks like a perturbation (perturbation, guide, gene, drug, treatment)',
      );
  }
  return {
    ok: true,
    data: {
      summary: {
        file: source.folder,
        format: 'mtx',
        layout: '10x Matrix Market',
        cells: data.cells,
        genes: data.genes.length,
        obs: data.obs.map((c) => ({ name: c.name, distinct: distinctValues(c) })),
        matrices: [],
        counts: data.countsPlace,
        countsReason: `counts from ${data.countsPlace}`,
        lacks,
        guess,
      },
      data,
      notes,
      close: () => undefined,
    },
    notes,
  };
}

export interface PseudobulkDataset extends LoadedDataset {
  /** Cells per (context, perturbation) group of each input, controls with perturbation ''. */
  groups: { file: string; groups: GroupCells[] }[];
}

async function build(
  inputs: readonly OpenedCells[],
  options: PseudobulkOptions,
  budget: number,
  hooks: SingleCellHooks,
): Promise<PseudobulkDataset> {
  const notes: string[] = [];
  const parts: EffectPart[] = [];
  const sources: SourceInfo[] = [];
  const groups: PseudobulkDataset['groups'] = [];
  for (const input of inputs) {
    notes.push(...input.notes);
    const s = input.summary;
    if (!input.data) {
      reject({
        file: s.file,
        column: s.counts,
        expected: 'a matrix of raw counts to pseudo-bulk',
        found: s.lacks.find((l) => /counts|matrix/.test(l)) ?? s.countsReason,
      });
    }
    const result = await pseudobulk(
      input.data,
      { memoryBudgetBytes: budget, ...options },
      {
        onCells: (read, total) => hooks.onCells?.({ file: s.file, read, total }),
        shouldStop: hooks.shouldStop,
      },
    );
    if (!result.ok) throw new InputFailure(result.error);
    notes.push(`${s.file}: ${s.countsReason}.`, ...result.data.notes);
    parts.push(result.data.part);
    groups.push({ file: s.file, groups: result.data.groups });
    const t = result.data.part.tensor;
    sources.push({
      file: s.file,
      format: 'single-cell',
      rows: s.cells,
      contexts: t.contexts.length,
      perturbations: t.perturbations.length,
      genes: t.genes.length,
    });
  }
  const overlap = geneOverlap(parts.map((p) => ({ file: p.file, genes: p.tensor.genes })));
  if (overlap.message) {
    if (overlap.shared === 0) {
      reject({
        file: parts.map((p) => p.file).join(', '),
        expected: 'genes shared by every input',
        found: overlap.message,
      });
    }
    notes.push(`Few shared genes: ${overlap.message}.`);
  }
  const files = parts.map((p) => p.file).join(', ');
  const tensor = mergeParts(parts, notes, budget);
  checkTransferable(tensor, files, notes);
  return { tensor, sources, notes, groups };
}

/** Progress by cells read, per input, and stopping; see PseudobulkHooks. */
export interface SingleCellHooks {
  onCells?(progress: { file: string; read: number; total: number }): void;
  shouldStop?(): boolean;
}

/**
 * Pseudo-bulks every opened input with the same columns and controls, merges them on shared genes (gene
 * names matched without case or Ensembl version suffix) and checks the result supports transfer. The tensor
 * is what loadDataset gives for bulk inputs (C x P x G differences of log2(CPM + 1), basal per context).
 * Rejects only with an AbortError, when `hooks.shouldStop` asked to stop.
 */
export async function pseudobulkDataset(
  inputs: readonly OpenedCells[],
  options: PseudobulkOptions,
  budgetBytes = DEFAULT_MEMORY_BUDGET,
  hooks: SingleCellHooks = {},
): Promise<ParseResult<PseudobulkDataset>> {
  try {
    const data = await build(inputs, options, budgetBytes, hooks);
    return { ok: true, data, notes: data.notes };
  } catch (e) {
    if (isAbortError(e)) throw e;
    if (e instanceof InputFailure) return { ok: false, error: e.error };
    return fail({
      file: inputs.map((i) => i.summary.file).join(', '),
      expected: 'single-cell inputs the pseudo-bulk step can use',
      found: `an internal error (${e instanceof Error ? e.message : String(e)})`,
    });
  }
}
