import { readdirSync, statSync } from 'node:fs';

/** A 10x Matrix Market file name (matrix.mtx, barcodes.tsv, features.tsv or genes.tsv, gzipped or not). */
const TENX_FILE = /^(matrix\.mtx|barcodes\.tsv|features\.tsv|genes\.tsv)(\.gz)?$/i;

/**
 * True for an .h5ad file or a folder holding 10x Matrix Market files (read as a 10x folder). A folder with
 * none of them is not single-cell input: openInputFile then says it is a directory.
 */
export function isSingleCellPath(path: string): boolean {
  if (/\.h5ad$/i.test(path)) return true;
  try {
    return statSync(path).isDirectory() && readdirSync(path).some((name) => TENX_FILE.test(name));
  } catch {
    return false;
  }
}
