import type { EffectTensor } from '../core/data/tensor';
import { sharedPerturbations, tensorSummary, unmeasuredPerturbations } from '../core/data/tensor';
import { formatBinaryBytes } from '../core/data/failure';
import type { LoadProgress as ReadProgress } from '../core/data/source';
import type { DatasetInfo, LoadProgress } from './api-types';

/** The plain description of a loaded tensor that the data view shows (no effect values cross over). */
export function describeDataset(tensor: EffectTensor, source: string, notes: readonly string[]): DatasetInfo {
  const contexts = tensor.contexts.map((_, c) => c);
  return {
    source,
    summary: tensorSummary(tensor),
    contexts: tensor.contexts.slice(),
    perturbations: tensor.perturbations.slice(),
    observed: tensor.observed.slice(),
    sharedPerContext: contexts.map((c) => sharedPerturbations(tensor, c).length),
    unmeasuredPerContext: contexts.map((c) => unmeasuredPerturbations(tensor, c).length),
    notes: notes.slice(),
  };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

/** The loader's byte counts as a fraction and a sentence for the progress bar. */
function progressMessage(progress: ReadProgress, known: boolean): string {
  const amount = `${megabytes(progress.bytesRead)}${known ? ` of ${megabytes(progress.totalBytes)}` : ''}`;
  switch (progress.stage) {
    case 'scanning':
      // The first of two passes over a wide table: it collects the row labels, then 'reading' fills the values.
      return `Scanning the rows of ${progress.file}: ${amount}`;
    case 'reading':
      return `Reading ${progress.file}: ${amount}`;
    case 'merging':
      return 'Merging files…';
    default:
      return `Building the table of ${progress.file}…`;
  }
}

export function describeProgress(progress: ReadProgress): LoadProgress {
  const known = progress.totalBytes > 0;
  return {
    fraction: known ? Math.min(1, progress.bytesRead / progress.totalBytes) : Number.NaN,
    message: progressMessage(progress, known),
  };
}

/** The run record's checksums' progress: bytes hashed of the files' total. */
export function describeChecksum(hashed: number, total: number): LoadProgress {
  return {
    fraction: total > 0 ? Math.min(1, hashed / total) : 1,
    message: `Computing SHA-256 checksums of the files: ${formatBinaryBytes(hashed)} of ${formatBinaryBytes(total)}`,
  };
}

/** Pseudo-bulking's progress: cells read of the input's cells. */
export function describeCells(read: number, total: number): LoadProgress {
  return {
    fraction: total > 0 ? Math.min(1, read / total) : Number.NaN,
    message: `Pseudo-bulking: ${read.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} cells`,
  };
}
