import { describe, expect, it } from 'vitest';
import {
  loadDataset,
  type InputFile,
  type LoadedDataset,
  type LoadOptions,
} from '../../../../src/core/data/load';
import { pairEffect } from '../../../../src/core/data/tensor';
import { gzip, memoryFile, unreadableFile } from '../../../fixtures/files';

async function loadOk(files: InputFile[], options?: LoadOptions): Promise<LoadedDataset> {
  const result = await loadDataset(files, options);
  if (!result.ok) throw new Error(`expected success, got: ${result.error.message}`);
  expect(result.notes).toEqual(result.data.notes);
  return result.data;
}

function effect(data: LoadedDataset, context: string, perturbation: string): number[] {
  const t = data.tensor;
  const c = t.contexts.indexOf(context);
  const p = t.perturbations.indexOf(perturbation);
  expect(c, `context ${context}`).toBeGreaterThanOrEqual(0);
  expect(p, `perturbation ${perturbation}`).toBeGreaterThanOrEqual(0);
  expect(t.observed[c * t.perturbations.length + p]).toBe(1);
  return Array.from(pairEffect(t, c, p));
}

function replicatesOf(data: LoadedDataset, context: string, perturbation: string): number {
  const t = data.tensor;
  return t.replicates[
    t.contexts.indexOf(context) * t.perturbations.length + t.perturbations.indexOf(perturbation)
  ];
}

const ROWS = [
  ['A', 'p1', '1', '2', '3'],
  ['A', 'p2', '4', '5', '6'],
  ['B', 'p1', '7', '8', '9'],
  ['B', 'p1', '9', '10', '11'],
  ['B', 'p3', '0.5', '-0.25', '1e-3'],
];
const HEADER = ['context', 'perturbation', 'TP53', 'MYC', 'EGFR'];
const table = (d: string, header = HEADER, rows = ROWS): string =>
  [header, ...rows].map((r) => r.join(d)).join('\n') + '\n';

function expectBasic(data: LoadedDataset): void {
  const t = data.tensor;
  expect(t.contexts).toEqual(['A', 'B']);
  expect(t.perturbations).toEqual(['p1', 'p2', 'p3']);
  expect(t.genes).toEqual(['TP53', 'MYC', 'EGFR']);
  expect(Array.from(t.observed)).toEqual([1, 1, 0, 1, 0, 1]);
  expect(Array.from(t.replicates)).toEqual([1, 1, 0, 2, 0, 1]);
  expect(effect(data, 'A', 'p2')).toEqual([4, 5, 6]);
  expect(effect(data, 'B', 'p1')).toEqual([8, 9, 10]);
  expect(effect(data, 'B', 'p3')).toEqual([0.5, -0.25, Math.fround(1e-3)]);
  expect(Array.from(pairEffect(t, 0, 2))).toEqual([0, 0, 0]);
  expect(t.basal).toBeUndefined();
}

describe('wide tables', () => {
  it('reads a CSV, averages repeated pairs, counts them and says so', async () => {
    const data = await loadOk([memoryFile('effects.csv', table(','))]);
    expectBasic(data);
    expect(data.notes).toContain(
      'effects.csv: 1 (context, perturbation) pair had repeated rows (2 in all), averaged.',
    );
    expect(data.sources).toEqual([
      { file: 'effects.csv', format: 'wide', rows: 5, contexts: 2, perturbations: 3, genes: 3 },
    ]);
  });

  it.each([
    ['TSV', 'effects.tsv', table('\t')],
    ['TSV named .txt', 'effects.txt', table('\t')],
    [
      'semicolons with decimal commas',
      'effects.csv',
      table(';').replace('0.5', '0,5').replace('-0.25', '-0,25'),
    ],
    ['CRLF line ends and a BOM', 'effects.csv', '\uFEFF' + table(',').replace(/\n/g, '\r\n')],
    [
      'comment lines and blank lines',
      'effects.csv',
      '# made by a tool\n\n' + table(',').replace('A,p2', '\nA,p2'),
    ],
    ['quoted fields', 'effects.csv', table(',').replace('A,p2,4', '"A","p2","4"').replace('TP53', '"TP53"')],
    ['trailing delimiters', 'effects.csv', table(',').replace(/\n/g, ',\n')],
  ])('reads %s to the same tensor', async (_what, name, text) => {
    expectBasic(await loadOk([memoryFile(name, text)]));
  });

  it('reads gzip (detected by magic bytes, not the name) in any chunking', async () => {
    for (const chunk of [0, 1, 7, 64]) {
      expectBasic(await loadOk([memoryFile('effects.csv.gz', gzip(table(',')), chunk)]));
      expectBasic(await loadOk([memoryFile('effects.data', gzip(table('\t')), chunk)]));
    }
  });

  it.each([
    ['cell_line', 'drug'],
    ['Cell_Type', 'Treatment'],
    ['CELL_ID', 'PERT_INAME'],
    ['donor', 'target'],
    [' context ', 'pert'],
  ])('accepts the aliases %s / %s', async (c, p) => {
    expectBasic(await loadOk([memoryFile('e.csv', table(',', [c, p, 'TP53', 'MYC', 'EGFR']))]));
  });

  it('keeps labels with delimiters and quotes intact and matches labels case-insensitively', async () => {
    const text = [
      'context,perturbation,TP53',
      '"A549, lung","drug ""X"", 10 µM",1',
      'a549,  LUNG  ,2',
      '"a549, LUNG","DRUG ""x"", 10 µM",3',
      'MCF7,"drug ""X"", 10 µM",4',
    ].join('\n');
    const data = await loadOk([memoryFile('q.csv', text)]);
    expect(data.tensor.contexts).toEqual(['A549, lung', 'a549', 'MCF7']);
    expect(data.tensor.perturbations).toEqual(['drug "X", 10 µM', 'LUNG']);
    expect(effect(data, 'A549, lung', 'drug "X", 10 µM')).toEqual([2]);
    expect(replicatesOf(data, 'A549, lung', 'drug "X", 10 µM')).toBe(2);
  });

  it('ignores index and row-metadata columns, naming them in a note', async () => {
    const header = ['', 'replicate', 'context', 'perturbation', 'batch', 'TP53', 'MYC', 'EGFR'];
    const rows = ROWS.map((r, i) => [String(i), '1', r[0], r[1], '7', ...r.slice(2)]);
    const data = await loadOk([memoryFile('pandas.csv', table(',', header, rows))]);
    expectBasic(data);
    expect(data.notes).toContain(
      'pandas.csv: ignored 3 non-gene columns: (unnamed column 1), replicate, batch.',
    );
  });

  it('averages over dose and time, or keeps them apart with keepDoseTime', async () => {
    const text = [
      'cell_line,drug,dose,time,TP53',
      'A,d,1,24,1',
      'A,d,10,24,3',
      'B,d,1,24,5',
      'B,d,1,6,7',
    ].join('\n');
    const merged = await loadOk([memoryFile('dose.csv', text)]);
    expect(merged.tensor.perturbations).toEqual(['d']);
    expect(effect(merged, 'A', 'd')).toEqual([2]);
    expect(merged.notes.join(' ')).toMatch(/differing only in dose or time/);
    const kept = await loadOk([memoryFile('dose.csv', text)], { keepDoseTime: true });
    expect(kept.tensor.perturbations).toEqual(['d@1@24', 'd@10@24', 'd@1@6']);
    expect(effect(kept, 'B', 'd@1@6')).toEqual([7]);
  });

  it('imputes missing values as 0 and drops genes missing in more than half of the pairs', async () => {
    const text = [
      'context,perturbation,G1,G2,G3',
      'A,p1,1,NA,',
      'A,p2,2,,NaN',
      'B,p1,null,3,nan',
      'B,p2,4,5,N/A',
    ].join('\n');
    const data = await loadOk([memoryFile('na.csv', text)]);
    expect(data.tensor.genes).toEqual(['G1', 'G2']);
    expect(effect(data, 'A', 'p1')).toEqual([1, 0]);
    expect(effect(data, 'B', 'p1')).toEqual([0, 3]);
    expect(data.notes).toContain(
      'na.csv: dropped 1 gene missing in more than half of the (context, perturbation) pairs: G3.',
    );
    expect(data.notes).toContain('na.csv: 3 missing values (empty, NA, NaN, null) set to 0, i.e. no change.');
  });

  it('keeps a context that shares no perturbation but names it in a note', async () => {
    const text = ['context,perturbation,G1', 'A,p1,1', 'B,p1,2', 'C,p9,3', 'D,p8,4'].join('\n');
    const data = await loadOk([memoryFile('iso.csv', text)]);
    expect(data.tensor.contexts).toEqual(['A', 'B', 'C', 'D']);
    expect(data.notes).toContain(
      '2 contexts share no perturbation with any other context and cannot be prediction targets: "C", "D".',
    );
  });
});

describe('long tables', () => {
  it('reads context, perturbation, gene, value rows with replicates and gaps', async () => {
    const text = [
      'cell_type\ttreatment\tgene_symbol\tlogFC',
      'T\tIL2\tCD69\t2',
      'T\tIL2\tCD69\t4',
      'T\tIL2\tIL2RA\t1',
      'T\tIFNG\tCD69\t0.5',
      'T\tIFNG\til2ra\t0.25',
      'B\tIL2\tCD69\t-1',
      'B\tIL2\tIL2RA\tNA',
      'B\tIL2\tGONE\t9',
    ].join('\n');
    const data = await loadOk([memoryFile('long.tsv', text)]);
    expect(data.sources[0].format).toBe('long');
    expect(data.tensor.contexts).toEqual(['T', 'B']);
    expect(data.tensor.perturbations).toEqual(['IL2', 'IFNG']);
    expect(data.tensor.genes).toEqual(['CD69', 'IL2RA']);
    expect(effect(data, 'T', 'IL2')).toEqual([3, 1]);
    expect(effect(data, 'T', 'IFNG')).toEqual([0.5, 0.25]);
    expect(effect(data, 'B', 'IL2')).toEqual([-1, 0]);
    expect(replicatesOf(data, 'T', 'IL2')).toBe(2);
    expect(data.notes).toContain(
      'long.tsv: dropped 1 gene missing in more than half of the (context, perturbation) pairs: GONE.',
    );
    expect(data.notes).toContain(
      'long.tsv: 1 missing value (empty, NA, NaN, null) set to 0, i.e. no change.',
    );
  });
});

describe('GCT', () => {
  it('reads GCT 1.2 with context|perturbation signature ids, averaging repeats', async () => {
    const text = [
      '#1.2',
      '3\t4',
      'Name\tDescription\tA|d1\tA|d1\tB|d1\tB|d2',
      'TP53\ttumor protein\t1\t3\t5\t7',
      'MYC\tna\t-1\t-3\tNaN\t0',
      'EGFR\t\t0.5\t0.5\t0.5\t0.5',
    ].join('\n');
    const data = await loadOk([memoryFile('small.gct', text)]);
    expect(data.sources[0]).toEqual({
      file: 'small.gct',
      format: 'gct',
      rows: 4,
      contexts: 2,
      perturbations: 2,
      genes: 3,
    });
    expect(data.tensor.genes).toEqual(['TP53', 'MYC', 'EGFR']);
    expect(effect(data, 'A', 'd1')).toEqual([2, -2, 0.5]);
    expect(effect(data, 'B', 'd1')).toEqual([5, 0, 0.5]);
    expect(replicatesOf(data, 'A', 'd1')).toBe(2);
  });

  const gct13 = [
    '#1.3',
    '2\t4\t2\t4',
    'id\tpr_gene_symbol\tpr_is_lm\tsig1\tsig2\tsig3\tsig4',
    'cell_id\tna\tna\tA375\tA375\tPC3\tPC3',
    'pert_iname\tna\tna\tvemurafenib\tvemurafenib\tvemurafenib\tDMSO',
    'pert_idose\tna\tna\t10 µM\t1 µM\t10 µM\t0',
    'pert_itime\tna\tna\t6 h\t6 h\t6 h\t6 h',
    '200814_at\tPSME1\t1\t1\t2\t3\t4',
    '222103_at\tATF1\t1\t-1\t-2\t-3\tNaN',
  ].join('\r\n');

  it('reads GCT 1.3 metadata: symbols for genes, cell_id and pert_iname for pairs', async () => {
    const data = await loadOk([memoryFile('sigs.gct', gct13, 5)]);
    expect(data.tensor.genes).toEqual(['PSME1', 'ATF1']);
    expect(data.tensor.contexts).toEqual(['A375', 'PC3']);
    expect(data.tensor.perturbations).toEqual(['vemurafenib', 'DMSO']);
    expect(effect(data, 'A375', 'vemurafenib')).toEqual([1.5, -1.5]);
    expect(effect(data, 'PC3', 'DMSO')).toEqual([4, 0]);
    expect(data.notes).toContain(
      'sigs.gct: 1 (context, perturbation) pair had repeated signatures (2 in all), averaged.',
    );
  });

  it('names perturbations drug@dose@time with keepDoseTime', async () => {
    const data = await loadOk([memoryFile('sigs.gct', gct13)], { keepDoseTime: true });
    expect(data.tensor.perturbations).toEqual([
      'vemurafenib@10 µM@6 h',
      'vemurafenib@1 µM@6 h',
      'DMSO@0@6 h',
    ]);
    expect(effect(data, 'A375', 'vemurafenib@1 µM@6 h')).toEqual([2, -2]);
  });

  it('falls back to row ids when symbols repeat', async () => {
    const data = await loadOk([memoryFile('dup.gct', gct13.replace('ATF1', 'PSME1'))]);
    expect(data.tensor.genes).toEqual(['200814_at', '222103_at']);
    expect(data.notes).toContain(
      'dup.gct: gene symbols repeat across rows, so genes are named by their row ids.',
    );
  });
});

describe('several files', () => {
  it('intersects harmonised genes, keeps the first spelling, unites contexts and averages shared pairs', async () => {
    const first = [
      'context,perturbation,TP53,MYC,ENSG00000141510.16,KRAS',
      'A,p1,1,2,3,4',
      'B,p1,5,6,7,8',
    ].join('\n');
    const second = [
      'cell_line\tdrug\tensg00000141510.17\tmyc\tBRCA1\t tp53 ',
      'B\tp1\t70\t60\t0\t50',
      'B\tp1\t70\t60\t0\t50',
      'C\tp2\t1\t1\t1\t1',
      'C\tp1\t2\t2\t2\t2',
    ].join('\n');
    const data = await loadOk([memoryFile('one.csv', first), memoryFile('two.tsv.gz', gzip(second), 11)]);
    const t = data.tensor;
    expect(t.genes).toEqual(['TP53', 'MYC', 'ENSG00000141510.16']);
    expect(t.contexts).toEqual(['A', 'B', 'C']);
    expect(t.perturbations).toEqual(['p1', 'p2']);
    // (B, p1): one row in one.csv, two rows in two.tsv.gz: the mean of the three rows.
    expect(effect(data, 'B', 'p1')).toEqual([35, 42, 49]);
    expect(replicatesOf(data, 'B', 'p1')).toBe(3);
    expect(effect(data, 'C', 'p1')).toEqual([2, 2, 2]);
    expect(data.notes).toContain(
      'Kept the 3 genes present in every file; one.csv lost 1, two.tsv.gz lost 1.',
    );
    expect(data.notes).toContain('1 (context, perturbation) pair measured in more than one file, averaged.');
    expect(data.sources.map((s) => [s.file, s.genes])).toEqual([
      ['one.csv', 4],
      ['two.tsv.gz', 4],
    ]);
  });

  it('rejects files that share no gene', async () => {
    const result = await loadDataset([
      memoryFile('x.csv', 'context,perturbation,G1\nA,p,1\nB,p,2\n'),
      memoryFile('y.csv', 'context,perturbation,G2\nA,p,1\nB,p,2\n'),
    ]);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.error.message).toMatch(
        /^x\.csv, y\.csv: expected genes present in every file, found no gene in common/,
      );
  });
});

describe('streaming behaviour', () => {
  const big = table(
    ',',
    HEADER,
    Array.from({ length: 400 }, (_, i) => [`C${i % 4}`, `p${i % 50}`, `${i}`, '1.5', '-2']),
  );

  it('reports progress per chunk, monotonically, up to the file size', async () => {
    const events: { file: string; bytesRead: number; stage: string }[] = [];
    const file = memoryFile('big.csv', big, 1000);
    await loadOk([file], { onProgress: (p) => events.push(p) });
    // Wide tables are read twice (labels, then values); bytesRead grows within each pass.
    for (const stage of ['scanning', 'reading']) {
      const pass = events.filter((e) => e.stage === stage);
      expect(pass.length).toBeGreaterThanOrEqual(Math.floor(file.size / 1000));
      for (let i = 1; i < pass.length; i++) expect(pass[i].bytesRead).toBeGreaterThan(pass[i - 1].bytesRead);
      expect(pass.at(-1)?.bytesRead).toBe(file.size);
    }
    expect(events.map((e) => e.stage).filter((s, i, all) => s !== all[i - 1])).toEqual([
      'scanning',
      'reading',
      'building',
      'merging',
    ]);
    const gct: string[] = [];
    await loadOk([memoryFile('x.gct', '#1.2\n1\t2\nName\tDescription\tA|p\tB|p\nG1\t\t1\t2\n', 4)], {
      onProgress: (p) => gct.push(p.stage),
    });
    expect(gct.filter((s, i, all) => s !== all[i - 1])).toEqual(['reading', 'building', 'merging']);
  });

  it('stops with an AbortError when shouldStop says so', async () => {
    let chunks = 0;
    const run = loadDataset([memoryFile('big.csv', big, 500)], {
      onProgress: () => chunks++,
      shouldStop: () => chunks >= 3,
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(chunks).toBe(3);
  });

  it('refuses a file over the memory budget before reading it (gzip counted four-fold)', async () => {
    const result = await loadDataset([unreadableFile('huge.tsv.gz', 300 * 1024 * 1024)]);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.message).toMatch(
        /^huge\.tsv\.gz: expected input that fits the memory budget of 1\.0 GiB, found about 1\.2 GiB of text \(huge\.tsv\.gz: 300\.0 MiB gzip/,
      );
    }
  });

  it('refuses a sparse table whose dense tensor would exceed the budget', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => [
      `C${i}`,
      `p${i}`,
      ...Array.from({ length: 10 }, () => '1'),
    ]);
    const text = table(
      ',',
      ['context', 'perturbation', ...Array.from({ length: 10 }, (_, g) => `G${g}`)],
      rows,
    );
    const result = await loadDataset([memoryFile('sparse.csv', text)], { memoryBudgetBytes: 16 * 1024 });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.message).toMatch(
        /^sparse\.csv: expected a dense tensor within the memory budget of 16\.0 KiB, found 40 contexts x 40 perturbations x 10 genes/,
      );
    }
  });

  it('turns a failing stream into a result naming the file, never an exception', async () => {
    const broken: InputFile = {
      name: 'broken.csv',
      size: 100,
      stream: () =>
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('context,perturbation,G1\nA,p,1\n'));
            controller.error(new Error('disk went away'));
          },
        }),
    };
    const result = await loadDataset([broken]);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.error.message).toMatch(
        /^broken\.csv: expected a file the loader can read, found an internal error \(disk went away\)/,
      );
    const folder: InputFile = {
      name: 'a-folder',
      size: 4096,
      stream: () =>
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.error(new DOMException('The blob could not be read', 'NotReadableError'));
          },
        }),
    };
    const unreadable = await loadDataset([folder]);
    expect(unreadable.ok).toBe(false);
    if (!unreadable.ok)
      expect(unreadable.error.message).toMatch(
        /^a-folder: expected a file the loader can read, found something that could not be read as a file \(a folder,/,
      );
    const none = await loadDataset([]);
    expect(none.ok).toBe(false);
  });
});
