import { existsSync, openAsBlob, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import {
  loadDataset,
  type InputFile,
  type LoadedDataset,
  type LoadOptions,
} from '../../../../src/core/data/load';
import { tensorSummary } from '../../../../src/core/data/tensor';

const DATA = new URL('../../../../../shared/data/', import.meta.url).pathname;
const GCT = `${DATA}lincs-l1000-3drugs/modzs_n272x978.gct`;
const PBMC = `${DATA}pbmc-drugs/effects.csv.gz`;

for (const path of [GCT, PBMC]) {
  if (!existsSync(path)) console.warn(`[data-real] ${path} is absent: its tests are skipped.`);
}

async function loadPath(path: string, options?: LoadOptions): Promise<LoadedDataset> {
  const blob = await openAsBlob(path);
  const file: InputFile = { name: basename(path), size: blob.size, stream: () => blob.stream() };
  const result = await loadDataset([file], options);
  if (!result.ok) throw new Error(result.error.message);
  return result.data;
}

describe.skipIf(!existsSync(GCT))('real GCT 1.3: LINCS L1000, 3 drugs', () => {
  it('reads 65 cell lines x 3 drugs x 978 genes from 272 signatures, averaging repeats', async () => {
    const data = await loadPath(GCT);
    const t = data.tensor;
    const summary = tensorSummary(t);
    expect([summary.contexts, summary.perturbations, summary.genes]).toEqual([65, 3, 978]);
    expect([...t.perturbations].sort()).toEqual(['atorvastatin', 'vemurafenib', 'venlafaxine']);
    expect(t.genes.slice(0, 3)).toEqual(['PSME1', 'ATF1', 'RHEB']);
    expect(t.replicates.reduce((a, b) => a + b, 0)).toBe(272);
    expect(summary.pairs).toBe(131);
    expect(summary.averagedPairs).toBe(39);
    expect(data.notes).toContain(
      'modzs_n272x978.gct: 39 (context, perturbation) pairs had repeated signatures (180 in all), averaged.',
    );

    // Independent check of one averaged pair straight from the text.
    const lines = readFileSync(GCT, 'utf8')
      .split('\n')
      .map((l) => l.split('\t'));
    const meta = (name: string): string[] => lines.find((l) => l[0] === name)?.slice(7) ?? [];
    const cells = meta('cell_id');
    const drugs = meta('pert_iname');
    const cols = cells
      .map((c, j) => (c === 'A375' && drugs[j] === 'vemurafenib' ? j : -1))
      .filter((j) => j >= 0);
    expect(cols.length).toBeGreaterThan(1);
    const row = lines.find((l) => l[5] === 'PSME1') ?? [];
    const mean = cols.reduce((s, j) => s + Number(row[7 + j]), 0) / cols.length;
    const c = t.contexts.indexOf('A375');
    const p = t.perturbations.indexOf('vemurafenib');
    expect(t.replicates[c * 3 + p]).toBe(cols.length);
    expect(t.values[(c * 3 + p) * 978 + t.genes.indexOf('PSME1')]).toBeCloseTo(mean, 5);
  });

  it('keeps dose and time apart on request', async () => {
    const data = await loadPath(GCT, { keepDoseTime: true });
    expect(data.tensor.perturbations.length).toBeGreaterThan(3);
    expect(data.tensor.perturbations.every((p) => p.split('@').length === 3)).toBe(true);
    expect(data.tensor.replicates.reduce((a, b) => a + b, 0)).toBe(272);
  });
});

describe.skipIf(!existsSync(PBMC))('real wide table: PBMC drugs (gzip)', () => {
  it('reads 4 cell types x 135 drugs x 2,000 genes, all 540 pairs, matching papaparse', async () => {
    const data = await loadPath(PBMC);
    const t = data.tensor;
    const summary = tensorSummary(t);
    expect([summary.contexts, summary.perturbations, summary.genes, summary.pairs]).toEqual([
      4, 135, 2000, 540,
    ]);
    expect(t.contexts).toEqual(['b', 'myeloid', 'nk', 't']);
    expect(summary.averagedPairs).toBe(0);
    expect(data.sources).toEqual([
      { file: 'effects.csv.gz', format: 'wide', rows: 540, contexts: 4, perturbations: 135, genes: 2000 },
    ]);

    const parsed = Papa.parse<string[]>(gunzipSync(readFileSync(PBMC)).toString('utf8'), {
      skipEmptyLines: true,
    });
    const [header, ...rows] = parsed.data;
    expect(t.genes).toEqual(header.slice(2));
    const P = t.perturbations.length;
    for (const row of rows) {
      const pair = t.contexts.indexOf(row[0]) * P + t.perturbations.indexOf(row[1]);
      const expected = Float32Array.from(row.slice(2), Number);
      expect(t.values.subarray(pair * 2000, (pair + 1) * 2000)).toEqual(expected);
    }
  });
});
