/**
 * The engine's single-cell path: a dropped .h5ad or 10x folder is opened and described, the pseudo-bulk
 * panel previews cells per group as columns are chosen, and pseudo-bulking makes the result the dataset.
 */
import { groupSizes } from '../core/data/pseudobulk';
import { mtxRole } from '../core/data/single-cell';
import {
  openSingleCell,
  pseudobulkDataset,
  type OpenedCells,
  type SingleCellSource,
} from '../core/data/single-cell-load';
import type {
  CellsInfo,
  CellsOutcome,
  GroupPreview,
  LoadOutcome,
  LoadProgress,
  PseudobulkChoice,
} from './api-types';
import { describeCells, describeDataset } from './dataset-info';
import { notify, release } from './engine-views';
import { describeFiles } from './provenance';
import type { RunGate } from './run-gate';
import type { LoadedDataset } from './sessions';

/** Value lists longer than this are not sent to the page (a barcode column, a numeric score). */
export const MAX_LISTED_VALUES = 2000;

export interface CellsHost {
  gate: RunGate;
  /** Makes the pseudo-bulked dataset the engine's current one. */
  replace(dataset: LoadedDataset): void;
}

async function sourceOf(files: readonly File[]): Promise<SingleCellSource> {
  const h5ad = files.find((f) => /\.h5ad$/i.test(f.name));
  if (h5ad) {
    // WORKERFS reads the File in place (FileReaderSync, dedicated workers only); elsewhere it is copied.
    const mount = typeof (globalThis as { FileReaderSync?: unknown }).FileReaderSync === 'function';
    return mount
      ? { kind: 'h5ad', input: { name: h5ad.name, blob: h5ad } }
      : { kind: 'h5ad', input: { name: h5ad.name, bytes: new Uint8Array(await h5ad.arrayBuffer()) } };
  }
  const matrix = files.find((f) => mtxRole(f.name) === 'matrix');
  const folder = matrix?.webkitRelativePath?.split('/').slice(-2, -1)[0] || 'dropped 10x files';
  return { kind: 'mtx', folder, files };
}

/**
 * `methods` join the engine's API; `forget` closes the opened input (its HDF5 copy included) and says
 * whether there was one, for the engine's reset.
 */
export function cellMethods(host: CellsHost) {
  let opened: { cells: OpenedCells; files: File[] } | null = null;
  const forget = (): boolean => {
    const had = opened !== null;
    opened?.cells.close();
    opened = null;
    return had;
  };
  const methods = {
    /** Opens a single-cell drop and describes it; the previous dataset stays loaded. */
    openCells(files: File[]): Promise<CellsOutcome> {
      return host.gate.run(async (): Promise<CellsOutcome> => {
        forget();
        const result = await openSingleCell(await sourceOf(files));
        if (!result.ok) return { ok: false, error: result.error };
        opened = { cells: result.data, files };
        const s = result.data.summary;
        const obs = result.data.data?.obs ?? [];
        const info: CellsInfo = {
          source: s.file,
          format: s.format,
          cells: s.cells,
          genes: s.genes,
          columns: s.obs.map((c) => {
            const column = obs.find((o) => o.name === c.name);
            const listed = column && column.categories.length <= MAX_LISTED_VALUES;
            return { ...c, values: listed ? [...column.categories] : null };
          }),
          counts: s.counts ?? null,
          countsReason: s.countsReason,
          lacks: s.lacks,
          guess: s.guess,
          notes: result.data.notes,
        };
        return { ok: true, cells: info };
      });
    },

    /** Cells per group for a choice, from the annotations only (fast, no counts read). */
    previewGroups(choice: PseudobulkChoice): GroupPreview {
      const data = opened?.cells.data;
      const empty = { kept: 0, groups: 0, min: 0, median: 0, max: 0, contextsWithoutControls: [] };
      if (!data) return empty;
      const g = groupSizes(data, choice);
      if (!g.sizes.length)
        return { ...empty, groups: g.groups, contextsWithoutControls: g.contextsWithoutControls };
      return {
        kept: g.kept,
        groups: g.groups,
        min: g.sizes[0],
        median: g.sizes[Math.floor(g.sizes.length / 2)],
        max: g.sizes[g.sizes.length - 1],
        contextsWithoutControls: g.contextsWithoutControls,
      };
    },

    /**
     * Pseudo-bulks the opened input with the choice and makes it the dataset, reporting cells read as the
     * counts stream. A rejection, or a cancel (an AbortError), leaves the dataset and the opened input as
     * they were.
     */
    pseudobulk(
      choice: PseudobulkChoice,
      onProgress?: (progress: LoadProgress) => void,
    ): Promise<LoadOutcome> {
      return host.gate
        .run(async (token): Promise<LoadOutcome> => {
          if (!opened) throw new Error('No single-cell file is open: drop an .h5ad or a 10x folder first.');
          const result = await pseudobulkDataset([opened.cells], choice, undefined, {
            onCells: ({ read, total }) => notify(onProgress, describeCells(read, total)),
            shouldStop: () => token.stopped,
          });
          if (!result.ok) return { ok: false, error: result.error };
          const input = await describeFiles(opened.files, {
            shouldStop: () => token.stopped,
            onProgress: (p) => notify(onProgress, p),
          });
          const s = opened.cells.summary;
          const source = `${s.file} (${s.format}, ${s.cells} cells, pseudo-bulk by ${choice.contextColumn} x ${choice.perturbationColumn})`;
          host.replace({ tensor: result.data.tensor, source, notes: result.data.notes, input });
          return { ok: true, dataset: describeDataset(result.data.tensor, source, result.data.notes) };
        })
        .finally(() => release(onProgress));
    },
  };
  return { methods, forget };
}
