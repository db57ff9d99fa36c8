/**
 * The CLI's single-cell inputs (.h5ad files and 10x folders): opening them from disk, choosing the columns
 * (flags, else guessed and said so), inspecting, pseudo-bulking, and the simulator's single-cell output.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { RandomAccessFile } from '../core/data/h5ad-mount';
import { writeH5ad } from '../core/data/h5ad-write';
import { mtxRole, formatMtx } from '../core/data/mtx';
import { DEFAULT_MIN_CELLS, type PseudobulkOptions } from '../core/data/pseudobulk';
import {
  openSingleCell,
  pseudobulkDataset,
  type OpenedCells,
  type PseudobulkDataset,
  type SingleCellSource,
} from '../core/data/single-cell-load';
import { tensorSummary } from '../core/data/tensor';
import { simulate } from '../core/simulate/simulator';
import {
  CONTROL_LABEL,
  cellTable,
  simulateCells,
  type SingleCellOptions,
} from '../core/simulate/single-cell';
import { installNodeH5Plugins } from './h5-plugins';
import { UsageError, openInputFile } from './node-io';

export interface SingleCellFlags {
  'context-col'?: string;
  'perturbation-col'?: string;
  control?: string[];
  'min-cells'?: string;
  counts?: string;
}

/** An .h5ad file read in pieces with fs.readSync, so that memory does not grow with the file. */
function randomAccessFile(path: string): RandomAccessFile {
  let fd: number | null;
  let size: number;
  try {
    fd = openSync(path, 'r');
    size = fstatSync(fd).size;
  } catch {
    throw new UsageError(`${path}: no such file.`);
  }
  return {
    name: basename(path),
    size,
    readAt(target, position) {
      if (fd === null) throw new Error(`${path} is closed`);
      return readSync(fd, target, 0, target.length, position);
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}

async function source(path: string): Promise<SingleCellSource> {
  if (/\.h5ad$/i.test(path)) {
    const reader = randomAccessFile(path);
    return { kind: 'h5ad', input: { name: reader.name, reader } };
  }
  const names = readdirSync(path).filter((n) => mtxRole(n) !== undefined);
  const files = await Promise.all(names.map((n) => openInputFile(join(path, n))));
  return { kind: 'mtx', folder: basename(path), files };
}

async function openAll(paths: readonly string[], flags: SingleCellFlags): Promise<OpenedCells[]> {
  installNodeH5Plugins();
  const opened: OpenedCells[] = [];
  for (const path of paths) {
    const input = await source(path);
    const result = await openSingleCell(input, { counts: flags.counts });
    if (!result.ok) {
      if (input.kind === 'h5ad' && 'reader' in input.input) input.input.reader.close?.();
      opened.forEach((o) => o.close());
      throw new UsageError(result.error.message);
    }
    opened.push(result.data);
  }
  return opened;
}

function minCells(flags: SingleCellFlags): number {
  if (flags['min-cells'] === undefined) return DEFAULT_MIN_CELLS;
  const n = Number(flags['min-cells']);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--min-cells expects an integer >= 1, got "${flags['min-cells']}".`);
  return n;
}

/** Flags first; what is missing is taken from the first input's guesses, and each guess is said on stderr. */
function chooseColumns(opened: readonly OpenedCells[], flags: SingleCellFlags): PseudobulkOptions {
  const guess = opened[0].summary.guess;
  const obsNames = opened[0].summary.obs.map((c) => c.name);
  const pick = (flag: 'context-col' | 'perturbation-col', guessed: string | undefined, role: string) => {
    const value = flags[flag] ?? guessed;
    if (value === undefined) {
      throw new UsageError(
        `--${flag} NAME is required: no obs column of ${opened[0].summary.file} looks like the ${role}; ` +
          `its columns are ${obsNames.length ? obsNames.join(', ') : '(none)'}.`,
      );
    }
    if (flags[flag] === undefined)
      process.stderr.write(`note: --${flag} ${value} (guessed from the column names)\n`);
    return value;
  };
  const contextColumn = pick('context-col', guess.context, 'context (cell line, cell type, donor)');
  const perturbationColumn = pick(
    'perturbation-col',
    guess.perturbation,
    'perturbation (perturbation, guide, gene, drug, treatment)',
  );
  let controls = flags.control ?? [];
  if (!controls.length) {
    controls = perturbationColumn === guess.perturbation ? guess.controls : [];
    if (!controls.length) {
      throw new UsageError(
        `--control LABEL is required: no value of ${perturbationColumn} looks like a control (non-targeting, NT, DMSO, control).`,
      );
    }
    process.stderr.write(`note: --control ${controls.join(' --control ')} (guessed from the labels)\n`);
  }
  return { contextColumn, perturbationColumn, controls, minCells: minCells(flags) };
}

/** Pseudo-bulked single-cell inputs as a dataset; notes go to stderr as for bulk inputs. */
export async function loadSingleCell(
  paths: readonly string[],
  flags: SingleCellFlags,
): Promise<PseudobulkDataset> {
  const opened = await openAll(paths, flags);
  try {
    const result = await pseudobulkDataset(opened, chooseColumns(opened, flags));
    if (!result.ok) throw new UsageError(result.error.message);
    for (const note of result.data.notes) process.stderr.write(`note: ${note}\n`);
    return result.data;
  } finally {
    opened.forEach((o) => o.close());
  }
}

/**
 * `inspect` on single-cell inputs: what each declares (cells, genes, obs columns with distinct values, the
 * counts matrix, what it lacks); with any of the column flags, also the pseudo-bulked dataset's summary.
 */
export async function inspectSingleCell(
  paths: readonly string[],
  flags: SingleCellFlags,
  json: boolean,
): Promise<void> {
  const opened = await openAll(paths, flags);
  const inputs = opened.map((o) => o.summary);
  const wanted =
    flags['context-col'] !== undefined ||
    flags['perturbation-col'] !== undefined ||
    flags['min-cells'] !== undefined ||
    Boolean(flags.control?.length);
  let dataset: PseudobulkDataset | undefined;
  try {
    if (wanted) {
      const result = await pseudobulkDataset(opened, chooseColumns(opened, flags));
      if (!result.ok) throw new UsageError(result.error.message);
      dataset = result.data;
    }
  } finally {
    opened.forEach((o) => o.close());
  }
  const summary = dataset ? tensorSummary(dataset.tensor) : undefined;
  if (json) {
    const first = inputs[0];
    process.stdout.write(
      `${JSON.stringify({
        cells: first.cells,
        genes: first.genes,
        obs: first.obs,
        inputs,
        ...(dataset && summary
          ? {
              ...summary,
              contextNames: dataset.tensor.contexts,
              sources: dataset.sources,
              notes: dataset.notes,
              groups: dataset.groups,
            }
          : {}),
      })}\n`,
    );
    return;
  }
  const lines: string[] = [];
  for (const s of inputs) {
    lines.push(
      `${s.file} (${s.layout})`,
      `  cells          ${s.cells}`,
      `  genes          ${s.genes}`,
      `  counts         ${s.counts ?? 'none'} (${s.countsReason})`,
      `  obs columns    ${s.obs.length ? s.obs.map((c) => `${c.name} (${c.distinct})`).join(', ') : 'none'}`,
      ...s.matrices.map(
        (m) => `  matrix ${m.place}: ${m.storage} ${m.shape[0]} x ${m.shape[1]}, ${m.verdict}`,
      ),
      ...(s.guess.context || s.guess.perturbation
        ? [
            `  likely columns --context-col ${s.guess.context ?? '?'} --perturbation-col ${s.guess.perturbation ?? '?'}` +
              (s.guess.controls.length ? ` --control ${s.guess.controls.join(' --control ')}` : ''),
          ]
        : []),
      ...s.lacks.map((l) => `  lacks: ${l}`),
    );
  }
  if (dataset && summary) {
    lines.push(
      `contexts       ${summary.contexts}  (${dataset.tensor.contexts.join(', ')})`,
      `perturbations  ${summary.perturbations}`,
      `genes          ${summary.genes}`,
      `observed pairs ${summary.pairs} of ${summary.contexts * summary.perturbations}`,
      ...dataset.tensor.contexts.map((c, i) => `  ${c}: ${summary.pairsPerContext[i]} pairs`),
    );
    for (const g of dataset.groups) {
      const kept = g.groups.filter((x) => x.kept).map((x) => x.cells);
      lines.push(
        `  ${g.file}: ${kept.length} groups kept, cells per group ${Math.min(...kept)} to ${Math.max(...kept)}`,
      );
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/**
 * `simulate --format h5ad|mtx`: the simulator's cells. h5ad: one file; mtx: a folder with matrix.mtx.gz,
 * barcodes.tsv.gz, features.tsv.gz and cells.csv (barcode, context, perturbation; controls `control`).
 */
export async function simulateSingleCell(
  format: 'h5ad' | 'mtx',
  out: string,
  world: Parameters<typeof simulate>[0],
  cellOptions: SingleCellOptions,
): Promise<string> {
  const sim = simulate({ ...world, counts: false });
  const cells = simulateCells(sim, cellOptions);
  const table = cellTable(cells);
  const count = `${cells.barcodes.length} cells (${CONTROL_LABEL} = controls)`;
  if (format === 'h5ad') {
    installNodeH5Plugins();
    writeFileSync(out, await writeH5ad(table));
    return `Wrote ${out}: ${count}`;
  }
  const text = formatMtx(table);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'matrix.mtx.gz'), gzipSync(text.matrix));
  writeFileSync(join(out, 'barcodes.tsv.gz'), gzipSync(text.barcodes));
  writeFileSync(join(out, 'features.tsv.gz'), gzipSync(text.features));
  writeFileSync(join(out, 'cells.csv'), text.cells);
  return `Wrote ${out}/ (matrix.mtx.gz, barcodes.tsv.gz, features.tsv.gz, cells.csv): ${count}`;
}
