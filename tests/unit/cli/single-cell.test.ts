import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'c3tl-sc-'));
const ARCHIVES = new URL('../../../../shared/data/anndata-archives/', import.meta.url).pathname;
const present = existsSync(ARCHIVES);
if (!present)
  console.warn(`[cli-single-cell] ${ARCHIVES} is absent: the real AnnData archive test is skipped.`);

function c3tl(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Input {
  cells: number;
  genes: number;
  obs: { name: string; distinct: number }[];
  counts?: string;
  lacks: string[];
}

describe('c3tl CLI on single-cell inputs', () => {
  it.skipIf(!present)('inspect --json reports what each AnnData archive declares and lacks', () => {
    const versions = ['v0.5.0', 'v0.7.0', 'v0.7.8', 'v0.11.4'];
    const r = c3tl('inspect', '--json', ...versions.flatMap((v) => ['--data', `${ARCHIVES}${v}/adata.h5ad`]));
    expect(r.code, r.stderr).toBe(0);
    const inputs = (JSON.parse(r.stdout) as { inputs: Input[] }).inputs;
    expect(inputs.map((i) => [i.cells, i.genes, i.obs.length, i.counts])).toEqual([
      [700, 765, 8, undefined],
      [30, 20, 5, 'raw/X'],
      [30, 20, 5, 'raw/X'],
      [10, 20, 0, undefined],
    ]);
    expect(inputs[0].obs).toContainEqual({ name: 'bulk_labels', distinct: 10 });
    expect(inputs[0].lacks[0]).toMatch(/no raw counts.*scaled/);
    expect(inputs[3].lacks[0]).toMatch(/no expression matrix/);
  });

  const h5ad = join(dir, 'sim.h5ad');
  const tenx = join(dir, 'tenx');

  it('simulates .h5ad and 10x folders that inspect pseudo-bulks with guessed columns', () => {
    const world = ['--contexts', '3', '--perturbations', '4', '--genes', '60', '--cells-per-pair', '12'];
    expect(c3tl('simulate', '--format', 'h5ad', '--out', h5ad, ...world).code).toBe(0);
    expect(c3tl('simulate', '--format', 'mtx', '--out', tenx, ...world).code).toBe(0);
    expect(readdirSync(tenx).sort()).toEqual([
      'barcodes.tsv.gz',
      'cells.csv',
      'features.tsv.gz',
      'matrix.mtx.gz',
    ]);
    const r = c3tl('inspect', '--json', '--data', h5ad, '--data', tenx, '--context-col', 'context');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      cells: number;
      contexts: number;
      perturbations: number;
      pairs: number;
    };
    expect(out).toMatchObject({ cells: 3 * 5 * 12, contexts: 3, perturbations: 4, pairs: 12 });
    expect(r.stderr).toMatch(/--perturbation-col perturbation \(guessed/);
  });

  it('convert writes the pseudo-bulked effects of an .h5ad as a wide table that reads back the same', () => {
    const out = join(dir, 'pseudobulk.csv');
    const converted = c3tl('convert', '--data', h5ad, '--context-col', 'context', '--out', out);
    expect(converted.code, converted.stderr).toBe(0);
    const fromCells = c3tl('inspect', '--json', '--data', h5ad, '--context-col', 'context');
    const fromTable = c3tl('inspect', '--json', '--data', out);
    expect(fromTable.code, fromTable.stderr).toBe(0);
    const summary = (text: string) => {
      const { contexts, perturbations, genes, pairs } = JSON.parse(text) as Record<string, number>;
      return { contexts, perturbations, genes, pairs };
    };
    expect(summary(fromTable.stdout)).toEqual(summary(fromCells.stdout));
    expect(summary(fromTable.stdout)).toMatchObject({ contexts: 3, perturbations: 4, pairs: 12 });
  });

  it.each<[string, string[], RegExp]>([
    ['not HDF5', ['--data', 'TEXT'], /^error: text\.h5ad, line 1: expected an HDF5 file/],
    [
      'misspelt column',
      ['--data', 'H5AD', '--context-col', 'contxt'],
      /^error: sim\.h5ad, column "contxt": expected an obs column for the context \(did you mean "context"\?\)/,
    ],
    [
      'unknown control label',
      ['--data', 'H5AD', '--control', 'DMSO'],
      /error: sim\.h5ad, column "perturbation": expected cells labelled "DMSO" \(control\), found no such value among its 5 values \("control"\)/,
    ],
    [
      'too few cells',
      ['--data', 'H5AD', '--min-cells', '13'],
      /expected \(context, perturbation\) groups of at least 13 cells/,
    ],
  ])('%s: one message and exit code 2', (_name, args, message) => {
    const text = join(dir, 'text.h5ad');
    writeFileSync(text, 'gene,a\nx,1\n');
    const r = c3tl('inspect', ...args.map((a) => (a === 'TEXT' ? text : a === 'H5AD' ? h5ad : a)));
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))[0]).toMatch(message);
  });
});
