/**
 * .h5ad read in pieces (the CLI's way: a synchronous readAt, never the whole file) gives what reading the
 * copied bytes gives, for a generated file and the real AnnData archives; the pseudo-bulk pass over it reports
 * cells read block by block and stops cleanly when asked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openH5ad, type RandomAccessFile } from '../../../../src/core/data/h5ad';
import { writeH5ad } from '../../../../src/core/data/h5ad-write';
import { pseudobulk, type PseudobulkOptions } from '../../../../src/core/data/pseudobulk';
import { installNodeH5Plugins } from '../../../../src/cli/h5-plugins';

const ARCHIVES = new URL('../../../../../shared/data/anndata-archives/', import.meta.url).pathname;
const present = existsSync(ARCHIVES);
if (!present)
  console.warn(`[data-h5ad-pieces] ${ARCHIVES} is absent: the real AnnData archive tests are skipped.`);

beforeAll(() => installNodeH5Plugins());

/** A reader over bytes in memory that records what was asked of it. */
function piecewise(name: string, bytes: Uint8Array) {
  const log = { bytesRead: 0, largestRead: 0, closed: false };
  const reader: RandomAccessFile = {
    name,
    size: bytes.length,
    readAt(target, position) {
      const piece = bytes.subarray(position, position + target.length);
      target.set(piece);
      log.bytesRead += piece.length;
      log.largestRead = Math.max(log.largestRead, piece.length);
      return piece.length;
    },
    close() {
      log.closed = true;
    },
  };
  return { input: { name, reader }, log };
}

const CELLS = 1500;
const GENES = 1200;
const PER_CELL = 1000;

/** 1.5 M stored counts (more than one block of the reader): contexts a/b x control, p1, p2, 250 cells each. */
async function generated(): Promise<Uint8Array> {
  const indptr = new Int32Array(CELLS + 1);
  const indices = new Int32Array(CELLS * PER_CELL);
  const data = new Uint32Array(CELLS * PER_CELL);
  for (let c = 0; c < CELLS; c++) {
    indptr[c + 1] = (c + 1) * PER_CELL;
    for (let i = 0; i < PER_CELL; i++) {
      const at = c * PER_CELL + i;
      indices[at] = (i + (c % 7) * 20) % GENES;
      data[at] = 1 + ((c * 31 + i * 17) % 9);
    }
  }
  return writeH5ad({
    genes: Array.from({ length: GENES }, (_, j) => `G${j}`),
    barcodes: Array.from({ length: CELLS }, (_, c) => `cell${c}`),
    obs: {
      context: Array.from({ length: CELLS }, (_, c) => (c % 2 ? 'a' : 'b')),
      perturbation: Array.from({ length: CELLS }, (_, c) => ['control', 'p1', 'p2'][Math.floor(c / 2) % 3]),
    },
    indptr,
    indices,
    data,
  });
}

const CHOICE: PseudobulkOptions = {
  contextColumn: 'context',
  perturbationColumn: 'perturbation',
  controls: ['control'],
};

describe('.h5ad read in pieces', () => {
  it('opens a generated file reading only part of it, and pseudo-bulks it as the copied bytes do', async () => {
    const bytes = await generated();
    const { input, log } = piecewise('big.h5ad', bytes);
    const pieces = await openH5ad(input);
    if (!pieces.ok) throw new Error(pieces.error.message);
    // Opening reads the annotations and the first cells only.
    expect(log.bytesRead).toBeLessThan(bytes.length / 2);
    const whole = await openH5ad({ name: 'big.h5ad', bytes });
    if (!whole.ok) throw new Error(whole.error.message);
    expect(pieces.data.summary).toEqual(whole.data.summary);
    const a = await pseudobulk(pieces.data.data!, CHOICE);
    const b = await pseudobulk(whole.data.data!, CHOICE);
    if (!a.ok || !b.ok) throw new Error('pseudo-bulk failed');
    expect(a.data.part.tensor.values.length).toBeGreaterThan(0);
    expect(a.data.part.tensor.values).toEqual(b.data.part.tensor.values);
    expect(log.largestRead).toBeLessThan(bytes.length / 2);
    pieces.data.close();
    whole.data.close();
    expect(log.closed).toBe(true);
  });

  it('reports cells read block by block up to the total, and a stop mid-way leaves the file usable', async () => {
    const bytes = await generated();
    const opened = await openH5ad({ name: 'big.h5ad', bytes });
    if (!opened.ok) throw new Error(opened.error.message);
    const data = opened.data.data!;
    const reads: number[] = [];
    const done = await pseudobulk(data, CHOICE, { onCells: (read, total) => reads.push(read, total) });
    expect(done.ok).toBe(true);
    const read = reads.filter((_, i) => i % 2 === 0);
    expect(reads.filter((_, i) => i % 2 === 1).every((t) => t === CELLS)).toBe(true);
    expect(read.length).toBeGreaterThan(1);
    expect(read.every((r, i) => i === 0 || r > read[i - 1])).toBe(true);
    expect(read.at(-1)).toBe(CELLS);

    let calls = 0;
    const stopped = pseudobulk(data, CHOICE, {
      onCells: () => calls++,
      shouldStop: () => calls > 0,
    });
    await expect(stopped).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toBe(1);
    const again = await pseudobulk(data, CHOICE);
    if (!again.ok || !done.ok) throw new Error('pseudo-bulk failed');
    expect(again.data.part.tensor.values).toEqual(done.data.part.tensor.values);
    opened.data.close();
  });

  it.skipIf(!present).each(['v0.5.0', 'v0.7.0', 'v0.7.8', 'v0.11.4'])(
    'the %s archive reads the same in pieces as whole',
    async (version) => {
      const path = `${ARCHIVES}${version}/adata.h5ad`;
      const bytes = readFileSync(path);
      const { input } = piecewise(`${version}/adata.h5ad`, bytes);
      const pieces = await openH5ad(input);
      const whole = await openH5ad({ name: input.name, bytes });
      if (!pieces.ok || !whole.ok) throw new Error('open failed');
      expect(pieces.data.summary).toEqual(whole.data.summary);
      expect(pieces.data.data?.obs).toEqual(whole.data.data?.obs);
      pieces.data.close();
      whole.data.close();
    },
  );
});
