/**
 * Single-cell counts from the simulator: cells drawn per (context, perturbation) from the expected expression
 * behind the simulator's effect table, so that pseudo-bulking them gives that table back up to sampling noise.
 */
import { columnFromLabels, type SingleCellData } from '../data/single-cell';
import { createRng } from '../random';
import { sampleNegativeBinomial, withPolarNormal } from './sampling';
import type { SimulatedData } from './simulator';
import type { CellTable } from '../data/h5ad-write';

export interface SingleCellOptions {
  /** Cells per observed (context, perturbation) pair and control cells per context, default 50. */
  cellsPerPair?: number;
  /** Mean UMIs per cell, default 4000; each cell's depth varies log-normally (sd 0.3 in natural log). */
  umisPerCell?: number;
  /** Negative-binomial dispersion of a gene's count across cells of one group, default 0.1. */
  dispersion?: number;
  seed?: number;
}

/** Cells x genes counts in CSR form with each cell's context and perturbation (`control` for controls). */
export interface SimulatedCells {
  genes: string[];
  /** Length cells. */
  barcodes: string[];
  contexts: string[];
  perturbations: string[];
  /** Length cells + 1; the nonzeros of cell c are indices/data[indptr[c] .. indptr[c+1]). */
  indptr: Int32Array;
  /** Gene index of each nonzero. */
  indices: Int32Array;
  /** UMI count of each nonzero. */
  data: Uint32Array;
}

export const CONTROL_LABEL = 'control';

class Growing {
  indices = new Int32Array(1 << 16);
  data = new Uint32Array(1 << 16);
  length = 0;
  push(g: number, v: number): void {
    if (this.length === this.indices.length) {
      const indices = new Int32Array(this.length * 2);
      const data = new Uint32Array(this.length * 2);
      indices.set(this.indices);
      data.set(this.data);
      this.indices = indices;
      this.data = data;
    }
    this.indices[this.length] = g;
    this.data[this.length++] = v;
  }
}

/**
 * Draws cells for every observed pair of `sim` and `cellsPerPair` control cells per context. The expected
 * composition of a group is rebuilt from the simulator's output: control CPM = 2^basal - 1 and treated CPM =
 * 2^(basal + truth) - 1 (truth is the noise-free effect in log2(CPM + 1)). Each cell draws NB counts with
 * mean depth * share per gene.
 */
export function simulateCells(sim: SimulatedData, options: SingleCellOptions = {}): SimulatedCells {
  const n = options.cellsPerPair ?? 50;
  const umis = options.umisPerCell ?? 4000;
  const dispersion = options.dispersion ?? 0.1;
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`simulateCells: cellsPerPair must be >= 1, got ${n}`);
  const t = sim.tensor;
  const basal = t.basal;
  if (!basal) throw new RangeError('simulateCells: the simulated tensor has no basal expression');
  const C = t.contexts.length;
  const P = t.perturbations.length;
  const G = t.genes.length;
  const rng = withPolarNormal(createRng(options.seed ?? 1));
  const barcodes: string[] = [];
  const contexts: string[] = [];
  const perturbations: string[] = [];
  const indptr: number[] = [0];
  const nz = new Growing();
  const share = new Float64Array(G);
  const drawGroup = (context: string, perturbation: string): void => {
    let total = 0;
    for (let g = 0; g < G; g++) total += share[g];
    for (let k = 0; k < n; k++) {
      const depth = umis * Math.exp(0.3 * rng.normal() - 0.045);
      for (let g = 0; g < G; g++) {
        if (share[g] <= 0) continue;
        const v = sampleNegativeBinomial(rng, (depth * share[g]) / total, dispersion);
        if (v > 0) nz.push(g, v);
      }
      barcodes.push(`${context}_${perturbation}_${barcodes.length + 1}`);
      contexts.push(context);
      perturbations.push(perturbation);
      indptr.push(nz.length);
    }
  };
  for (let c = 0; c < C; c++) {
    for (let g = 0; g < G; g++) share[g] = Math.max(0, 2 ** basal[c * G + g] - 1);
    drawGroup(t.contexts[c], CONTROL_LABEL);
    for (let p = 0; p < P; p++) {
      if (!t.observed[c * P + p]) continue;
      const offset = (c * P + p) * G;
      for (let g = 0; g < G; g++) share[g] = Math.max(0, 2 ** (basal[c * G + g] + sim.truth[offset + g]) - 1);
      drawGroup(t.contexts[c], t.perturbations[p]);
    }
  }
  return {
    genes: t.genes.slice(),
    barcodes,
    contexts,
    perturbations,
    indptr: Int32Array.from(indptr),
    indices: nz.indices.slice(0, nz.length),
    data: nz.data.slice(0, nz.length),
  };
}

/**
 * The simulated cells as the table the .h5ad and 10x writers take, with the cell labels in obs columns of the
 * given names (default `context` and `perturbation`).
 */
export function cellTable(
  cells: SimulatedCells,
  columns: { context: string; perturbation: string } = { context: 'context', perturbation: 'perturbation' },
): CellTable {
  return {
    genes: cells.genes,
    barcodes: cells.barcodes,
    obs: { [columns.context]: cells.contexts, [columns.perturbation]: cells.perturbations },
    indptr: cells.indptr,
    indices: cells.indices,
    data: cells.data,
  };
}

/** The simulated cells as pseudo-bulk input (obs columns `context` and `perturbation`). */
export function cellsAsData(cells: SimulatedCells, file: string): SingleCellData {
  return {
    file,
    countsPlace: 'X',
    cells: cells.barcodes.length,
    cellNames: cells.barcodes,
    genes: cells.genes,
    obs: [columnFromLabels('context', cells.contexts), columnFromLabels('perturbation', cells.perturbations)],
    scan: async (visit) => {
      for (let c = 0; c < cells.barcodes.length; c++) {
        const a = cells.indptr[c];
        const b = cells.indptr[c + 1];
        visit(c, cells.indices.subarray(a, b), cells.data.subarray(a, b), b - a);
      }
    },
  };
}
