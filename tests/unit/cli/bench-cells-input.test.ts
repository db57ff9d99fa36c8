/**
 * The browser pseudo-bulk benchmark's streamed input: the .h5ad written block by block into chunked datasets
 * on disk, and the 10x folder written block by block, hold exactly what the in-memory writers produce for
 * the same cells (the path the app and the CLI already read), across several blocks and HDF5 chunks.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  syntheticBlocks,
  syntheticLabels,
  writeSyntheticH5ad,
  writeSyntheticMtx,
  type SyntheticShape,
} from '../../../src/cli/bench-cells-input';
import { installNodeH5Plugins } from '../../../src/cli/h5-plugins';
import { openH5ad } from '../../../src/core/data/h5ad';
import { writeH5ad, type CellTable } from '../../../src/core/data/h5ad-write';
import { formatMtx } from '../../../src/core/data/mtx';
import { pseudobulk } from '../../../src/core/data/pseudobulk';

const dir = mkdtempSync(join(tmpdir(), 'c3tl-bench-cells-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => installNodeH5Plugins());

/** 9,000 cells x 150 counts: three blocks of cells, 1.35 M values (more than one 1 M-value HDF5 chunk). */
const SHAPE: SyntheticShape = { cells: 9000, genes: 600, perCell: 150 };

/** The same cells gathered into one table, for the in-memory writers. */
function wholeTable(shape: SyntheticShape): CellTable {
  const blocks = [...syntheticBlocks(shape)];
  const concat = <T extends Int32Array | Uint32Array>(
    make: (n: number) => T,
    part: (b: (typeof blocks)[0]) => T,
  ) => {
    const out = make(blocks.reduce((n, b) => n + part(b).length, 0));
    let at = 0;
    for (const b of blocks) {
      out.set(part(b), at);
      at += part(b).length;
    }
    return out;
  };
  const indptr = new Int32Array(shape.cells + 1);
  for (const b of blocks)
    for (let r = 1; r < b.indptr.length; r++) indptr[b.firstCell + r] = b.indptr[r] + indptr[b.firstCell];
  return {
    ...syntheticLabels(shape),
    indptr,
    indices: concat(
      (n) => new Int32Array(n),
      (b) => b.indices,
    ),
    data: concat(
      (n) => new Uint32Array(n),
      (b) => b.data,
    ),
  };
}

describe('benchmark input streamed to disk', () => {
  it('comes in several blocks whose cells each store perCell distinct genes', () => {
    const blocks = [...syntheticBlocks(SHAPE)];
    expect(blocks.length).toBeGreaterThan(1);
    expect(blocks.reduce((n, b) => n + b.indptr.length - 1, 0)).toBe(SHAPE.cells);
    const first = blocks[0].indices.subarray(0, SHAPE.perCell);
    expect(new Set(first).size).toBe(SHAPE.perCell);
    expect(Math.max(...first)).toBeLessThan(SHAPE.genes);
    // stride = 600 / 150 = 4 consecutive cells cover all 600 genes.
    expect(new Set(blocks[1].indices.subarray(0, 4 * SHAPE.perCell)).size).toBe(SHAPE.genes);
  });

  it("writes an .h5ad that opens and pseudo-bulks as the in-memory writer's file does", async () => {
    const [path] = await writeSyntheticH5ad(dir, SHAPE);
    const streamed = await openH5ad({ name: 'cells.h5ad', bytes: readFileSync(path) });
    const whole = await openH5ad({ name: 'cells.h5ad', bytes: await writeH5ad(wholeTable(SHAPE)) });
    if (!streamed.ok || !whole.ok) throw new Error('open failed');
    expect(streamed.data.summary).toEqual(whole.data.summary);
    expect(streamed.data.summary.cells).toBe(SHAPE.cells);
    const choice = { contextColumn: 'context', perturbationColumn: 'perturbation', controls: ['control'] };
    const a = await pseudobulk(streamed.data.data!, choice);
    const b = await pseudobulk(whole.data.data!, choice);
    if (!a.ok || !b.ok) throw new Error('pseudo-bulk failed');
    expect(a.data.part.tensor.contexts).toEqual(['ctx0', 'ctx1', 'ctx2', 'ctx3']);
    expect(a.data.part.tensor.values).toEqual(b.data.part.tensor.values);
    streamed.data.close();
    whole.data.close();
  });

  it('writes a 10x folder identical to formatMtx of the whole table', () => {
    const paths = writeSyntheticMtx(dir, SHAPE);
    const text = formatMtx(wholeTable(SHAPE));
    expect(paths.map((p) => readFileSync(p, 'utf8'))).toEqual([
      text.matrix,
      text.barcodes,
      text.features,
      text.cells,
    ]);
  });
});
