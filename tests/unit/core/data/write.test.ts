import { describe, expect, it } from 'vitest';
import type { Delimiter } from '../../../../src/core/data/write';
import {
  formatCountsMatrix,
  formatEffectRows,
  formatFloat32,
  formatFieldNumber,
  formatSampleSheet,
  formatWideTable,
  quoteField,
} from '../../../../src/core/data/write';
import type { EffectTensor } from '../../../../src/core/data/tensor';
import { simulate } from '../../../../src/core/simulate/simulator';

/** A strict RFC 4180 reader (quoted fields may hold the delimiter, doubled quotes and line breaks). */
function parse(text: string, d: Delimiter): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === d) {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
    i++;
  }
  if (field !== '' || row.length) throw new Error('text does not end with a newline');
  return rows;
}

const tensor: EffectTensor = {
  contexts: ['A549', 'cell, "odd"'],
  perturbations: ['KD_TP53', 'drug\tX', 'multi\nline'],
  genes: ['TP53', 'MYC', 'G,3'],
  values: Float32Array.from([
    // A549: KD_TP53, drug X, multi line
    -1.5, 0.25, 1e-7, 0, 0, 0, 3.14159265, -2.71828182, 123456789,
    // cell, "odd": KD_TP53, drug X, multi line
    0.1, -0, 42, 0.5, 0.333333333, -1e-12, 0, 0, 0,
  ]),
  observed: Uint8Array.from([1, 0, 1, 1, 1, 0]),
  replicates: Uint16Array.from([1, 0, 1, 1, 1, 0]),
};

describe('formatFieldNumber', () => {
  it.each([
    [0, 6, '0'],
    [-0, 6, '0'],
    [0.5, 6, '0.5'],
    [-1.25, 6, '-1.25'],
    [1200, 6, '1200'],
    [3.14159265, 6, '3.14159'],
    [3.14159265, 3, '3.14'],
    [123456789, 6, '1.23457e+8'],
    [1e-7, 6, '1e-7'],
    [-1.5e-12, 4, '-1.5e-12'],
    [0.000123456789, 6, '0.000123457'],
    [NaN, 6, ''],
    [Infinity, 6, ''],
  ])('formatFieldNumber(%d, %d) = %s', (value, digits, text) => {
    expect(formatFieldNumber(value, digits)).toBe(text);
  });

  it.each([3, 6, 9])('round-trips to %d significant digits', (digits) => {
    const values = [1e-9, -3.3e-5, 0.1, 0.123456789, -7.77777777, 1234.56789, 98765432.1, 1 / 3];
    for (const v of values) {
      const back = Number(formatFieldNumber(v, digits));
      expect(Math.abs(back - v)).toBeLessThanOrEqual(0.5 * 10 ** (1 - digits) * Math.abs(v) * (1 + 1e-12));
    }
  });
});

describe('formatFloat32', () => {
  it('writes the shortest text of at most 9 digits that reads back as the same float32', () => {
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(Math.fround(1 / 3))).toBe('0.33333334');
    expect(formatFloat32(0)).toBe('0');
    expect(formatFloat32(NaN)).toBe('');
    const bits = new Uint32Array(1);
    const view = new Float32Array(bits.buffer);
    let seed = 12345;
    for (let i = 0; i < 20000; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      bits[0] = seed;
      const v = view[0];
      if (!Number.isFinite(v)) continue;
      const text = formatFloat32(v);
      expect(Math.fround(Number(text))).toBe(v);
      expect(text.replace(/^-?0?\.?0*|e.*$|\./g, '').length).toBeLessThanOrEqual(9);
    }
  });
});

describe('quoteField', () => {
  it.each([
    ['plain', ',', 'plain'],
    ['a,b', ',', '"a,b"'],
    ['a,b', '\t', 'a,b'],
    ['a\tb', '\t', '"a\tb"'],
    ['say "hi"', ',', '"say ""hi"""'],
    ['two\nlines', ',', '"two\nlines"'],
    ['cr\r', '\t', '"cr\r"'],
  ] as [string, Delimiter, string][])('quoteField(%j, %j) = %j', (field, d, out) => {
    expect(quoteField(field, d)).toBe(out);
  });
});

describe('formatWideTable', () => {
  it.each([',', '\t'] as Delimiter[])('writes the exact header and one row per observed pair (%j)', (d) => {
    const text = formatWideTable(tensor, { delimiter: d });
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')[0]).toBe(
      ['context', 'perturbation', 'TP53', 'MYC', quoteField('G,3', d)].join(d),
    );
    const rows = parse(text, d);
    expect(rows[0]).toEqual(['context', 'perturbation', 'TP53', 'MYC', 'G,3']);
    expect(rows.slice(1).map((r) => [r[0], r[1]])).toEqual([
      ['A549', 'KD_TP53'],
      ['A549', 'multi\nline'],
      ['cell, "odd"', 'KD_TP53'],
      ['cell, "odd"', 'drug\tX'],
    ]);
    expect(rows[2].slice(2)).toEqual(['3.14159', '-2.71828', '1.23457e+8']);
    expect(rows[3].slice(2)).toEqual(['0.1', '0', '42']);
  });

  it('honours digits and round-trips every value to that precision', () => {
    const data = simulate({ contexts: 2, perturbations: 10, genes: 30, observedFraction: 0.7 });
    for (const digits of [4, 6]) {
      const rows = parse(formatWideTable(data.tensor, { digits }), ',');
      const P = data.tensor.perturbations.length;
      const G = data.tensor.genes.length;
      const observed = Array.from(data.tensor.observed).reduce((a, b) => a + b, 0);
      expect(rows).toHaveLength(1 + observed);
      for (const row of rows.slice(1)) {
        const c = data.tensor.contexts.indexOf(row[0]);
        const p = data.tensor.perturbations.indexOf(row[1]);
        expect(data.tensor.observed[c * P + p]).toBe(1);
        row.slice(2).forEach((text, g) => {
          const v = data.tensor.values[(c * P + p) * G + g];
          expect(
            text.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').length,
          ).toBeLessThanOrEqual(digits);
          expect(Math.abs(Number(text) - v)).toBeLessThanOrEqual(
            0.5 * 10 ** (1 - digits) * Math.abs(v) * (1 + 1e-9),
          );
        });
      }
    }
  });
});

describe('formatEffectRows', () => {
  it('writes arbitrary rows with empty fields for missing values', () => {
    const text = formatEffectRows(
      [
        { context: 'c1', perturbation: 'p "1"', values: [0.5, NaN, -2] },
        { context: 'c2', perturbation: 'p2', values: Float32Array.from([1, 2, 3]) },
      ],
      ['g1', 'g2', 'g3'],
      { delimiter: '\t', digits: 3 },
    );
    expect(text).toBe('context\tperturbation\tg1\tg2\tg3\nc1\t"p ""1"""\t0.5\t\t-2\nc2\tp2\t1\t2\t3\n');
  });

  it('rejects a row whose length differs from the genes', () => {
    expect(() =>
      formatEffectRows([{ context: 'c', perturbation: 'p', values: [1, 2] }], ['a', 'b', 'c']),
    ).toThrow(/row 1 has 2 values for 3 genes/);
  });
});

describe('counts and sample sheet', () => {
  const data = simulate({ contexts: 2, perturbations: 4, genes: 6, replicates: 2 });
  const counts = data.counts!;

  it.each([',', '\t'] as Delimiter[])('writes the counts matrix genes x samples (%j)', (d) => {
    const rows = parse(formatCountsMatrix(counts, { delimiter: d }), d);
    expect(rows[0]).toEqual(['gene', ...counts.samples]);
    expect(rows).toHaveLength(1 + counts.genes.length);
    const S = counts.samples.length;
    rows.slice(1).forEach((row, g) => {
      expect(row[0]).toBe(counts.genes[g]);
      expect(row.slice(1).map(Number)).toEqual(Array.from(counts.values.subarray(g * S, (g + 1) * S)));
    });
  });

  it('rejects counts whose size does not match genes x samples', () => {
    expect(() => formatCountsMatrix({ ...counts, values: counts.values.subarray(1) })).toThrow(
      /counts for 6 genes/,
    );
  });

  it.each([',', '\t'] as Delimiter[])('writes the sample sheet with is_control true/false (%j)', (d) => {
    const text = formatSampleSheet(data.sampleSheet, { delimiter: d });
    const rows = parse(text, d);
    expect(text.split('\n')[0]).toBe(['sample', 'context', 'perturbation', 'is_control'].join(d));
    expect(rows.slice(1)).toEqual(
      data.sampleSheet.map((s) => [s.sample, s.context, s.perturbation, s.isControl ? 'true' : 'false']),
    );
    expect(rows[1]).toEqual(['ctx01_control_r1', 'ctx01', 'control', 'true']);
  });

  it('quotes sheet fields that need it', () => {
    const text = formatSampleSheet([{ sample: 's,1', context: 'c"x"', perturbation: 'p', isControl: false }]);
    expect(text).toBe('sample,context,perturbation,is_control\n"s,1","c""x""",p,false\n');
  });
});
