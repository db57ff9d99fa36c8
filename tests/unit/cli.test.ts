import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { METHODS, METRICS } from '../../src/core/eval/types';

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

  it('inspects a file as JSON', () => {
    const r = c3tl('inspect', '--data', effects, '--json');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ contexts: 3, perturbations: 24, genes: 60, pairs: 72 });
  });

  it.each([
    ['a file that does not exist', [join(dir, 'missing.csv')], /missing\.csv: no such file/],
    ['a directory', [dir], /c3tl-cli-\w+: is a directory, not a file; give the files inside it/],
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
});
