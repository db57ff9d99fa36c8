import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatCountsMatrix, formatSampleSheet } from '../../src/core/data/write';
import { METHODS, METRICS } from '../../src/core/eval/types';
import { simulate } from '../../src/core/simulate/simulator';

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
      expect(r.stderr).toMatch(/benchmark preset full/);
      expect(r.stderr).toMatch(/sim:default seed 2 support 0\.1 target ctx01/);
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
