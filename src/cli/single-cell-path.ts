import { statSync } from 'node:fs';

/** True for an .h5ad file or a folder (read as a 10x Matrix Market folder). */
export function isSingleCellPath(path: string): boolean {
  if (/\.h5ad$/i.test(path)) return true;
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
