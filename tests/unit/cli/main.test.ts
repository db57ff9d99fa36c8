import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src/core/data/load';
import { formatCountsMatrix, formatSampleSheet } from '../../../src/core/data/write';
import { METHODS } from '../../../src/core/eval/methods';
import { METRICS } from '../../../src/core/eval/metric-info';
import { simulate } from '../../../src/core/simulate/simulator';
import { memoryFile } from '../../fixtures/files';

const dir = mkdtempSync(join(tmpdir(), 'c3tl-cli-'));

function c3tl(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('c3tl CLI', () => {
  const effects = join(dir, 'sim.csv.gz');

  it('simulates a gzipped wide effects table', () => {
    const r = c3tl('simulate', '--out', effects, '--contexts', '3', '--perturbations', '24', '--genes', '60');
    expect(r.code).toBe(0);
    const lines = gunzipSync(readFileSync(effects)).toString('utf8').trim().split('\n');
    expect(lines[0].split(',').slice(0, 3)).toEqual(['context', 'perturbation', 'G0001']);
    expect(lines).toHaveLength(1 + 3 * 24);
  });

  it('simulates counts with a sample sheet next to them', () => {
    const counts = join(dir, 'counts.tsv');
    const r = c3tl(
      'simulate',
      '--out',
      counts,
      '--format',
      'counts',
      '--contexts',
      '2',
      '--perturbations',
      '5',
      '--genes',
      '30',
    );
    expect(r.code).toBe(0);
    expect(readFileSync(counts, 'utf8').split('\n')[0].startsWith('gene\t')).toBe(true);
    expect(readFileSync(join(dir, 'counts.samples.csv'), 'utf8').split('\n')[0]).toBe(
      'sample,context,perturbation,is_control',
    );
  });

  it('simulates a named kind, and --no-modulation as the kind no-modulation', () => {
    const size = ['--contexts', '2', '--perturbations', '6', '--genes', '30'];
    const byKind = join(dir, 'kind.csv');
    const byFlag = join(dir, 'flag.csv');
    expect(c3tl('simulate', '--out', byKind, '--kind', 'no-modulation', ...size).code).toBe(0);
    expect(c3tl('simulate', '--out', byFlag, '--no-modulation', ...size).code).toBe(0);
    expect(readFileSync(byKind, 'utf8')).toBe(readFileSync(byFlag, 'utf8'));
    expect(c3tl('simulate', '--out', byKind, '--kind', 'pathways', ...size).code).toBe(0);
    const unknown = c3tl('simulate', '--out', byKind, '--kind', 'nope', ...size);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--kind expects one of default, pathways, noise, gains, no-modulation/);
    const clash = c3tl('simulate', '--out', byKind, '--kind', 'noise', '--no-modulation', ...size);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/--no-modulation contradicts --kind noise/);
  });

  it('inspects a file as JSON', () => {
    const r = c3tl('inspect', '--data', effects, '--json');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ contexts: 3, perturbations: 24, genes: 60, pairs: 72 });
  });

  it.each([
    ['a file that does not exist', [join(dir, 'missing.csv')], /missing\.csv: no such file/],
    ['a directory', [dir], /c3tl-cli-\w+: is a directory, not a file \(nor a 10x folder/],
    [
      'a table without a context column',
      ['bad.csv', 'gene,value\nA,1\n'],
      /bad\.csv, line 1: expected a context column/,
    ],
    [
      'a non-numeric value',
      ['nan.csv', 'context,perturbation,G1\na,p,1\nb,p,oops\n'],
      /nan\.csv, line 3, column 3/,
    ],
  ])('rejects %s with a message and exit code 2, no stack trace', (_, spec, message) => {
    let path = spec[0];
    if (spec.length > 1) {
      path = join(dir, spec[0]);
      writeFileSync(path, spec[1]);
    }
    const r = c3tl('inspect', '--data', path);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('converts files to the wide table the engine loaded, with its notes, and round-trips float32 exactly', async () => {
    const awkward = [0.1, 1 / 3, -2.5e-7, 123456.789, 3.4e38, 1e-40, -0.30000001192092896, 7];
    const rows = ['A', 'B', 'C'].flatMap((c, i) =>
      ['p1', 'p2'].map((p, j) => [c, p, ...awkward.map((v) => String(v / (1 + i + 3 * j)))].join(',')),
    );
    const header = ['context', 'perturbation', ...awkward.map((_, g) => `G${g}`)].join(',');
    const wide = join(dir, 'awkward.csv');
    writeFileSync(wide, [header, ...rows].join('\n') + '\n');
    const out = join(dir, 'converted.csv.gz');
    const r = c3tl('convert', '--data', wide, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Wrote 6 \(context, perturbation\) pairs x 8 genes \(3 contexts\)/);
    const before = await loadDataset([memoryFile('awkward.csv', readFileSync(wide))]);
    const after = await loadDataset([memoryFile('converted.csv.gz', readFileSync(out))]);
    if (!before.ok || !after.ok) throw new Error('both files must load');
    expect(after.data.tensor.genes).toEqual(before.data.tensor.genes);
    expect(Array.from(after.data.tensor.values)).toEqual(Array.from(before.data.tensor.values));
    expect(gunzipSync(readFileSync(out)).toString('utf8').split('\n')[1]).toMatch(/^A,p1,0\.1,0\.33333334,/);

    // Replicates with a gap, merged with a second file: the table shows the averages and the notes say why.
    const reps = join(dir, 'reps.csv');
    writeFileSync(reps, 'context,perturbation,G1,G2\nA,p,2,4\nA,p,NA,8\nB,p,1,1\n');
    const more = join(dir, 'more.tsv');
    writeFileSync(more, 'context\tperturbation\tG2\tG1\tG3\nC\tp\t5\t6\t7\n');
    const merged = join(dir, 'merged.tsv');
    const m = c3tl('convert', '--data', reps, '--data', more, '--out', merged);
    expect(m.code, m.stderr).toBe(0);
    expect(readFileSync(merged, 'utf8')).toBe(
      'context\tperturbation\tG1\tG2\nA\tp\t2\t6\nB\tp\t1\t1\nC\tp\t6\t5\n',
    );
    expect(m.stderr).toMatch(/note: reps\.csv: 1 \(context, perturbation\) pair had repeated rows/);
    expect(m.stderr).toMatch(/note: Kept the 2 genes present in every file/);
  });

  it('evaluates with --json: stdout is exactly one JSON object with every method and metric', () => {
    const r = c3tl(
      'evaluate',
      '--data',
      effects,
      '--target',
      'all',
      '--support',
      '0.25',
      '--max-epochs',
      '1',
      '--json',
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.dataset).toEqual({ contexts: 3, perturbations: 24, genes: 60, pairs: 72 });
    expect(report.targets).toHaveLength(3);
    for (const method of METHODS) {
      for (const metric of METRICS) expect(typeof report.mean[method][metric]).toBe('number');
    }
    expect(report.train).toMatchObject({ backend: 'cpu' });
    expect(r.stderr).toMatch(/Evaluated 3 target\(s\) in [\d.]+ s on cpu/);
  });

  it('fails with code 2, and says why, when no target has enough shared perturbations', () => {
    const few = join(dir, 'few-shared.csv');
    writeFileSync(few, 'context,perturbation,G1,G2\nA,p1,1,2\nB,p1,3,4\nA,p2,5,6\nC,p3,1,1\n');
    for (const json of [[], ['--json']]) {
      const r = c3tl('evaluate', '--data', few, '--target', 'all', '--max-epochs', '1', ...json);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/error: No context could be evaluated/);
      expect(r.stderr).toMatch(/"A" has 1 perturbation\(s\) also measured in another context/);
      expect(r.stderr).toMatch(
        /measure at least 2 of the same perturbations in the target and another context/,
      );
      expect(r.stderr).not.toMatch(/Evaluated 0 target/);
    }
  });

  it('warns about all-zero effects and leaves the metrics they make undefined as undefined/null', () => {
    const zero = join(dir, 'zero.csv');
    const genes = Array.from({ length: 8 }, (_, g) => `G${g}`);
    const rows = ['A', 'B', 'C'].flatMap((c) =>
      Array.from({ length: 6 }, (_, p) => [c, `p${p}`, ...genes.map(() => '0')].join(',')),
    );
    writeFileSync(zero, [['context', 'perturbation', ...genes].join(','), ...rows].join('\n') + '\n');
    const args = ['evaluate', '--data', zero, '--target', 'all', '--support', '0.5', '--max-epochs', '1'];
    const json = c3tl(...args, '--json');
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.warnings).toHaveLength(6);
    expect(report.warnings[0]).toMatch(
      /^Target "A": all 3 held-out pairs \("p\d", "p\d", "p\d"\) have an effect of 0 on every gene, so Pearson, top-50 direction and DEG overlap are undefined for this target\.$/,
    );
    for (const method of METHODS) {
      expect(report.mean[method].pearson).toBeNull();
      expect(report.mean[method].pearson_centered).toBeNull();
      expect(report.mean[method].deg_overlap_top50).toBeNull();
      expect(report.mean[method].mse).toEqual(expect.any(Number));
    }
    expect(json.stderr).toMatch(/^warning: Target "B": all 3 held-out pairs .* effect of 0 on every gene/m);
    const table = c3tl(...args);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^c3tl\s+undefined\s+undefined\s+\d/m);
    expect(table.stdout).not.toMatch(/NaN/);
  });

  it('rejects an unknown target and a bad support fraction with code 2', () => {
    expect(c3tl('evaluate', '--data', effects, '--target', 'nope').stderr).toMatch(/No context named "nope"/);
    const bad = c3tl('evaluate', '--data', effects, '--support', '2');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--support expects a fraction/);
  });

  it('predicts the unmeasured perturbations of a target as a wide table', () => {
    const sparse = join(dir, 'sparse.csv');
    const lines = gunzipSync(readFileSync(effects)).toString('utf8').trim().split('\n');
    // Drop ctx01's last 4 perturbations so there is something to predict.
    const dropped = lines.filter((l, i) => !(i > 0 && l.startsWith('ctx01,') && i > 20));
    writeFileSync(sparse, dropped.join('\n') + '\n');
    const out = join(dir, 'predicted.tsv');
    const r = c3tl('predict', '--data', sparse, '--target', 'ctx01', '--out', out, '--max-epochs', '1');
    expect(r.code, r.stderr).toBe(0);
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    expect(rows[0].split('\t').slice(0, 2)).toEqual(['context', 'perturbation']);
    expect(rows).toHaveLength(1 + 4);
    expect(rows.slice(1).every((row) => row.startsWith('ctx01\t'))).toBe(true);
  });

  describe('benchmark', () => {
    it('runs a simulated screen for two seeds as JSON: summaries, paired intervals around their means, rows', () => {
      const r = c3tl(
        'benchmark',
        '--data',
        'sim:default',
        '--seeds',
        '1,2',
        '--support',
        '0.1',
        '--genes',
        '30',
        '--max-epochs',
        '1',
        '--json',
      );
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.preset).toMatchObject({ geneLimit: 30, maxEpochs: 1 });
      expect(report.preset.name).toMatch(/^full \(overridden/);
      expect(report.datasets).toHaveLength(1);
      const cell = report.datasets[0];
      expect(cell).toMatchObject({ name: 'sim:default', support: 0.1, seeds: [1, 2], perSeed: true });
      expect(cell.rows).toBe(cell.dataset.contexts * 2);
      expect(cell.targetRows).toHaveLength(cell.rows);
      expect(new Set(cell.targetRows.map((row: { seed: number }) => row.seed))).toEqual(new Set([1, 2]));
      for (const method of METHODS) {
        for (const metric of METRICS) {
          expect(typeof cell.methods[method].mean[metric]).toBe('number');
          expect(typeof cell.methods[method].sd[metric]).toBe('number');
        }
      }
      const others = METHODS.filter((m) => m !== 'c3tl');
      expect(Object.keys(cell.paired).sort()).toEqual([...others].sort());
      for (const method of others) {
        for (const metric of METRICS) {
          const d = cell.paired[method][metric];
          expect(d.n).toBe(cell.rows);
          expect(d.lo).toBeLessThanOrEqual(d.mean);
          expect(d.hi).toBeGreaterThanOrEqual(d.mean);
        }
      }
      expect(cell.truth.ceiling.mean.pearson_centered).toBeGreaterThan(0);
      expect(cell.truth.vsTruth.rows).toBe(cell.rows);
      expect(cell.truth.vsTruth.paired.calibrated.pearson_centered.n).toBe(cell.rows);
      expect(cell.targetRows[0].truth.vsTruth.c3tl.pearson_centered).toEqual(expect.any(Number));
      expect(report.notes.some((note: string) => note.startsWith('truth (simulated data only)'))).toBe(true);
      expect(r.stderr).toMatch(/benchmark preset full/);
      expect(r.stderr).toMatch(
        /sim:default seed 2 support 0\.1 target ctx01: c3tl centred Pearson -?\d\.\d{4} \(1 epochs( on sparse means)?, [\d.]+ s; transfer best epoch [01], multiple [\d.]+(, sparse mix)?(, no slope)?\)/,
      );
      expect(cell.targetRows[0].train).toMatchObject({
        epochs: 1,
        transfer: {
          scale: expect.any(Number),
          judgedOn: { contexts: cell.dataset.contexts, pairs: expect.any(Number) },
          sparseMix: expect.any(Boolean),
          withoutSlope: expect.any(Boolean),
        },
      });
      // The progress line says "sparse mix" on the rows whose mix read denoised effects, and only there.
      const sparseRows = report.datasets
        .flatMap((d: { targetRows: { train: { transfer: { sparseMix: boolean } } }[] }) => d.targetRows)
        .filter(
          (row: { train: { transfer: { sparseMix: boolean } } }) => row.train.transfer.sparseMix,
        ).length;
      expect(r.stderr.match(/, sparse mix[,)]/g)?.length ?? 0).toBe(sparseRows);
      // And "no slope" where C3TL sat on the fixed form without its slope (train.transfer.withoutSlope).
      const slopeFreeRows = report.datasets
        .flatMap((d: { targetRows: { train: { transfer: { withoutSlope: boolean } } }[] }) => d.targetRows)
        .filter(
          (row: { train: { transfer: { withoutSlope: boolean } } }) => row.train.transfer.withoutSlope,
        ).length;
      expect(r.stderr.match(/, no slope\)/g)?.length ?? 0).toBe(slopeFreeRows);
      // And "on sparse means" where the fixed form read denoised means (train.sparseBase).
      const baseRows = report.datasets
        .flatMap((d: { targetRows: { train: { sparseBase: boolean } }[] }) => d.targetRows)
        .filter((row: { train: { sparseBase: boolean } }) => row.train.sparseBase).length;
      expect(r.stderr.match(/epochs on sparse means,/g)?.length ?? 0).toBe(baseRows);
    });

    it('reads a dataset of several files (comma-separated) and prints the tables of the fast preset', () => {
      const data = simulate({ contexts: 3, perturbations: 12, genes: 30, seed: 4 });
      if (!data.counts) throw new Error('no counts');
      const counts = join(dir, 'bench-counts.tsv');
      const sheet = join(dir, 'bench-counts.samples.csv');
      writeFileSync(counts, formatCountsMatrix(data.counts, { delimiter: '\t' }));
      writeFileSync(sheet, formatSampleSheet(data.sampleSheet));
      const r = c3tl(
        'benchmark',
        '--data',
        `${counts},${sheet}`,
        '--seeds',
        '1,2',
        '--support',
        '0.3',
        '--fast',
        '--genes',
        '20',
        '--max-epochs',
        '1',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^benchmark preset fast \(overridden: --genes 20, --max-epochs 1\)/);
      expect(r.stdout).toContain('support 0.3  seeds 1,2  6 (target, seed) rows');
      expect(r.stdout).toContain('each seed is a new split and model initialisation of the same data');
      expect(r.stdout).toMatch(/C3TL − method \[95% t-interval\]/);
      for (const method of METHODS)
        expect(r.stdout).toMatch(new RegExp(`^${method} +-?\\d\\.\\d{4} ± `, 'm'));
      expect(r.stdout).toMatch(
        /^additive +-?\d\.\d{4} ± \d\.\d{4} +[+-]\d\.\d{4} \[[+-]\d\.\d{4}, [+-]\d\.\d{4}\]$/m,
      );
      expect(r.stdout).not.toContain('noise ceiling');
    });

    it('prints the noise ceiling and the methods against the truth for a simulated screen', () => {
      const args = ['--data', 'sim:gains', '--seeds', '1', '--support', '0.2', '--genes', '20'];
      const r = c3tl('benchmark', ...args, '--max-epochs', '1');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /^noise ceiling \(the noise-free effects scored against the observations\): centred Pearson -?\d\.\d{4} ± /m,
      );
      const [, vsTruth] = r.stdout.split(
        /^vs the truth +centred Pearson +C3TL − method \[95% t-interval\]$/m,
      );
      expect(vsTruth).toBeDefined();
      for (const method of METHODS) expect(vsTruth).toMatch(new RegExp(`^${method} +-?\\d\\.\\d{4} ± `, 'm'));
      expect(vsTruth).toMatch(/^calibrated +-?\d\.\d{4} ± \d\.\d{4} +[+-]\d\.\d{4} \[/m);
    });

    it.each([
      [['--data', 'sim:nope'], /Unknown simulator kind "sim:nope"; the kinds are: sim:default/],
      [
        ['--data', 'sim:default', '--seeds', '1,x'],
        /--seeds expects a comma-separated list of distinct integers/,
      ],
      [
        ['--data', 'sim:default', '--support', '0.1,1.5'],
        /--support expects a comma-separated list of distinct fractions/,
      ],
      [['--data', 'sim:default', '--switches', 'nope=true'], /Unknown model switch\(es\) nope/],
    ])('rejects %j with exit code 2 and a clear message', (args, message) => {
      const r = c3tl('benchmark', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });
});
