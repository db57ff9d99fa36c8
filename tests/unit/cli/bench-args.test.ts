import { describe, expect, it } from 'vitest';
import { positiveNumber, tableArgs } from '../../../src/cli/bench-args';

describe('tableArgs', () => {
  it('has the defaults', () => {
    expect(tableArgs([], 'keep')).toEqual({
      ok: true,
      data: { mb: 200, genes: 5000, gzip: false, keep: false },
    });
  });

  it('reads --name value and --name=value alike, with the CLI’s own switch', () => {
    expect(tableArgs(['--mb', '12.5', '--genes=300', '--gzip', '--json'], 'json')).toEqual({
      ok: true,
      data: { mb: 12.5, genes: 300, gzip: true, json: true },
    });
  });

  it.each([
    [['--mb', '0'], /--mb must be a positive number, not "0"/],
    [['--genes', '2.5'], /--genes must be a positive integer/],
    [['--mb', 'lots'], /--mb must be a positive number/],
    [['--json'], /Unknown option '--json'.*--keep/],
  ])('refuses %j with a clear reason', (argv, reason) => {
    const parsed = tableArgs(argv, 'keep');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});

describe('positiveNumber', () => {
  it.each([
    ['3', true, 3],
    ['0.5', false, 0.5],
  ])('reads %j', (text, integer, value) => {
    expect(positiveNumber(text, 'x', integer)).toEqual({ ok: true, data: value });
  });

  it.each([['0'], [''], ['-1'], ['1.5']])('refuses %j as a positive integer', (text) => {
    expect(positiveNumber(text, 'max-epochs', true).ok).toBe(false);
  });
});
