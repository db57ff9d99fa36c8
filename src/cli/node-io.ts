import { openAsBlob, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { InputFile } from '../core/data/load';

/** A file on disk as the loader's InputFile (streamed, never read whole). */
export async function openInputFile(path: string): Promise<InputFile> {
  let size: number;
  let directory: boolean;
  try {
    const stat = statSync(path);
    size = stat.size;
    directory = stat.isDirectory();
  } catch {
    throw new UsageError(`${path}: no such file.`);
  }
  if (directory)
    throw new UsageError(
      `${path}: is a directory, not a file (nor a 10x folder: it holds no matrix.mtx, barcodes.tsv or features.tsv); give the files inside it.`,
    );
  const blob = await openAsBlob(path);
  return { name: basename(path), size, stream: () => blob.stream() };
}

/** A problem with what the user asked for; the CLI prints its message and exits with code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
