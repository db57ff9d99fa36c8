/**
 * The parse benchmarks' tools: the synthetic wide table is what its plan says (the large-file e2e test
 * checks the app's summary against the plan) and is the same on every run; progress values split into
 * read passes.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, openAsBlob, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { writeWideTable, planWideTable } from '../../../src/cli/synthetic-csv';
import { loadDataset } from '../../../src/core/data/load';
import { tensorSummary } from '../../../src/core/data/tensor';
import type { ProgressSample } from '../../../src/cli/load-probe';
import { progressPasses } from '../../../src/cli/load-probe';

const dir = mkdtempSync(join(tmpdir(), 'c3tl-synthetic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('synthetic wide table', () => {
  it.each([
    { mb: 0.5, genes: 50 },
    { mb: 1, genes: 200 },
  ])('parses to the planned shape ($mb MB, $genes genes)', async (options) => {
    const path = join(dir, `plan-${options.mb}-${options.genes}.csv`);
    const written = await writeWideTable(path, options);
    expect(written).toMatchObject(planWideTable(options));
    const bytes = readFileSync(path);
    expect(bytes.length).toBe(written.textBytes);
    // Within 10 % of the requested size.
    expect(Math.abs(bytes.length / (options.mb * 1e6) - 1)).toBeLessThan(0.1);
    const blob = await openAsBlob(path);
    const result = await loadDataset([{ name: 'plan.csv', size: blob.size, stream: () => blob.stream() }]);
    if (!result.ok) throw new Error(result.error.message);
    const s = tensorSummary(result.data.tensor);
    expect({ contexts: s.contexts, perturbations: s.perturbations, genes: s.genes, pairs: s.pairs }).toEqual({
      contexts: written.contexts,
      perturbations: written.perturbations,
      genes: written.genes,
      pairs: written.uniqueRows,
    });
    expect(s.averagedPairs).toBeGreaterThan(0);
  });

  it('writes the same bytes on every run, gzipped or not', async () => {
    const options = { mb: 0.3, genes: 40 };
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    const gz = join(dir, 'c.csv.gz');
    await writeWideTable(a, options);
    await writeWideTable(b, options);
    await writeWideTable(gz, { ...options, gzip: true });
    expect(sha256(readFileSync(b))).toBe(sha256(readFileSync(a)));
    expect(sha256(gunzipSync(readFileSync(gz)))).toBe(sha256(readFileSync(a)));
  });

  it.each([{ mb: 0 }, { mb: -1 }, { mb: Number.NaN }])('rejects mb = $mb', ({ mb }) => {
    expect(() => planWideTable({ mb, genes: 10 })).toThrow(/mb must be positive/);
  });

  it('rejects a fractional gene count', () => {
    expect(() => planWideTable({ mb: 1, genes: 2.5 })).toThrow(/genes a positive integer/);
  });
});

describe('progressPasses', () => {
  const samples = (fractions: number[]): ProgressSample[] =>
    fractions.map((fraction, i) => ({ fraction, message: '', at: i }));

  it.each([
    { fractions: [], passes: [] },
    { fractions: [0.1, 0.5, 1], passes: [[0.1, 0.5, 1]] },
    { fractions: [0.1, 0.1, 0.5], passes: [[0.1, 0.5]] },
    {
      fractions: [0.2, 0.6, 1, 0.1, 0.4, 1],
      passes: [
        [0.2, 0.6, 1],
        [0.1, 0.4, 1],
      ],
    },
    { fractions: [1, 0.5], passes: [[1], [0.5]] },
  ])('$fractions -> $passes', ({ fractions, passes }) => {
    expect(progressPasses(samples(fractions))).toEqual(passes);
  });
});
