import { describe, expect, it } from 'vitest';
import { InputFailure } from '../../../../src/core/data/failure';
import { detectDelimiter, geneKey } from '../../../../src/core/data/labels';
import {
  Fields,
  NUM_INFINITE,
  NUM_INVALID,
  NUM_MISSING,
  NUM_OK,
  RecordReader,
} from '../../../../src/core/data/records';
import { crc32, readText } from '../../../../src/core/data/text-stream';
import { firstInvalidUtf8 } from '../../../../src/core/data/utf8-stage';
import { createRng } from '../../../../src/core/random';
import { memoryFile, utf8 } from '../../../fixtures/files';

function parseNumber(text: string, decimalComma = false): { value: number; status: number } {
  const f = new Fields();
  f.src = text;
  f.decimalComma = decimalComma;
  f.push(0, text.length, 0, 1);
  const value = f.num(0);
  return { value, status: f.status };
}

interface Rec {
  line: number;
  fields: string[];
  lines: number[];
}

function tokenize(
  text: string,
  delimiter = ',',
  chunks: number[] = [text.length],
  fieldLimit = Infinity,
): Rec[] {
  const out: Rec[] = [];
  const options = { fieldLimit: () => fieldLimit };
  const reader = new RecordReader(
    't.csv',
    delimiter,
    (f) => {
      const fields: string[] = [];
      const lines: number[] = [];
      for (let i = 0; i < f.count; i++) {
        fields.push(f.text(i));
        lines.push(f.lineOf(i));
      }
      out.push({ line: f.line, fields, lines });
    },
    options,
  );
  let at = 0;
  for (const size of chunks) {
    reader.push(text.slice(at, at + size));
    at += size;
  }
  if (at < text.length) reader.push(text.slice(at));
  reader.end();
  return out;
}

describe('number parsing', () => {
  it.each([
    ['1', 1],
    ['-1.5', -1.5],
    ['+2', 2],
    ['.5', 0.5],
    ['5.', 5],
    ['1e-3', 0.001],
    ['1E+05', 100000],
    [' 3.25 ', 3.25],
    ['-0', -0],
    ['0.1', 0.1],
    ['3.14159265358979323846', Number('3.14159265358979323846')],
    ['1e-30', 1e-30],
    ['123456789012345678', Number('123456789012345678')],
  ])('%s -> %d', (text, value) => {
    const r = parseNumber(text);
    expect(r.status).toBe(NUM_OK);
    expect(Object.is(r.value, value)).toBe(true);
  });

  it.each([
    ['', NUM_MISSING],
    ['NA', NUM_MISSING],
    ['NaN', NUM_MISSING],
    ['nan', NUM_MISSING],
    ['null', NUM_MISSING],
    ['  ', NUM_MISSING],
    ['Inf', NUM_INFINITE],
    ['-Inf', NUM_INFINITE],
    ['Infinity', NUM_INFINITE],
    ['1e39', NUM_INFINITE],
    ['-4e38', NUM_INFINITE],
    ['abc', NUM_INVALID],
    ['1.2.3', NUM_INVALID],
    ['1e', NUM_INVALID],
    ['-', NUM_INVALID],
    ['.', NUM_INVALID],
    ['0x10', NUM_INVALID],
    ['1,5', NUM_INVALID],
    ['12abc', NUM_INVALID],
  ])('%j has status %i', (text, status) => {
    expect(parseNumber(text).status).toBe(status);
  });

  it('reads a decimal comma only when asked to (semicolon tables)', () => {
    expect(parseNumber('1,5', true)).toEqual({ value: 1.5, status: NUM_OK });
    expect(parseNumber('-0,25', true)).toEqual({ value: -0.25, status: NUM_OK });
  });

  it('agrees exactly with Number() on many random values in many notations', () => {
    const rng = createRng(7);
    for (let i = 0; i < 20000; i++) {
      const v = (rng.next() - 0.5) * 10 ** (rng.int(24) - 12);
      const text = [
        v.toString(),
        v.toPrecision(1 + rng.int(17)),
        v.toExponential(rng.int(12)),
        v.toFixed(rng.int(8)),
      ][i % 4];
      const r = parseNumber(text);
      expect(r.status).toBe(NUM_OK);
      expect(r.value).toBe(Number(text));
    }
  });
});

describe('RecordReader', () => {
  const text =
    'context,perturbation,"gene, with comma"\r\n' +
    '\r\n' +
    'A,"say ""hi""",1\r\n' +
    'B,"two\nlines",2\n' +
    '   \n' +
    'C,  plain  ,3,\n' +
    'D,x,"4" \n' +
    'E,y,5';

  const expected: Rec[] = [
    { line: 1, fields: ['context', 'perturbation', 'gene, with comma'], lines: [1, 1, 1] },
    { line: 3, fields: ['A', 'say "hi"', '1'], lines: [3, 3, 3] },
    { line: 4, fields: ['B', 'two\nlines', '2'], lines: [4, 4, 5] },
    { line: 7, fields: ['C', 'plain', '3', ''], lines: [7, 7, 7, 7] },
    { line: 8, fields: ['D', 'x', '4'], lines: [8, 8, 8] },
    { line: 9, fields: ['E', 'y', '5'], lines: [9, 9, 9] },
  ];

  it('handles quotes, doubled quotes, quoted line breaks, CRLF, blank lines and a missing final newline', () => {
    expect(tokenize(text)).toEqual(expected);
  });

  it('gives the same records for every chunking of the text', () => {
    for (const size of [1, 2, 3, 5, 8, 13]) {
      const chunks = Array.from({ length: Math.ceil(text.length / size) }, () => size);
      expect(tokenize(text, ',', chunks)).toEqual(expected);
    }
    const rng = createRng(3);
    for (let trial = 0; trial < 200; trial++) {
      const chunks: number[] = [];
      for (let left = text.length; left > 0;) {
        const n = 1 + rng.int(Math.min(left, 12));
        chunks.push(n);
        left -= n;
      }
      expect(tokenize(text, ',', chunks)).toEqual(expected);
    }
  });

  it('keeps text after a closing quote literally, as spreadsheets do', () => {
    expect(tokenize('a,"b"c,d\n')[0].fields).toEqual(['a', '"b"c', 'd']);
    expect(tokenize('a,b"c,d\n')[0].fields).toEqual(['a', 'b"c', 'd']);
  });

  it('splits on tabs and semicolons', () => {
    expect(tokenize('a\tb;c\td\n', '\t')[0].fields).toEqual(['a', 'b;c', 'd']);
    expect(tokenize('a\tb;c\td\n', ';')[0].fields).toEqual(['a\tb', 'c\td']);
  });

  it('splits only the first fields under a field limit, unless a quote follows', () => {
    const fields = (text: string, limit: number): string[][] =>
      tokenize(text, ',', [text.length], limit).map((r) => r.fields);
    expect(fields('a,b,c,d\ne,f,g,h\n', 2)).toEqual([
      ['a', 'b,c,d'],
      ['e', 'f,g,h'],
    ]);
    expect(fields('"a",x,c,d\n', 3)).toEqual([['a', 'x', 'c,d']]);
    expect(fields('a,b,"c\nd",e\nf,g,h\n', 2)).toEqual([
      ['a', 'b', 'c\nd', 'e'],
      ['f', 'g,h'],
    ]);
  });

  it('rejects an unterminated quote at the line and column where it opens', () => {
    try {
      tokenize('a,b\nc,"d\ne,f\n');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputFailure);
      expect((e as InputFailure).error).toMatchObject({ file: 't.csv', line: 2, column: 2 });
    }
  });
});

describe('labels', () => {
  it.each([
    ['context,perturbation,TP53', 'x.txt', ','],
    ['context\tperturbation\tTP53', 'x.csv', '\t'],
    ['context;perturbation;TP53', 'x.csv', ';'],
    ['"a,b"\tc\td', 'x', '\t'],
    ['a,b\tc', 'x.tsv.gz', '\t'],
    ['a,b\tc', 'x.csv.gz', ','],
  ])('delimiter of %j in %s is %j', (line, name, d) => {
    expect(detectDelimiter(line, name)).toBe(d);
  });

  it('matches genes across case, spaces and Ensembl versions', () => {
    expect(geneKey(' tp53 ')).toBe('TP53');
    expect(geneKey('ENSG00000141510.16')).toBe('ENSG00000141510');
    expect(geneKey('ENSMUSG00000059552.7')).toBe('ENSMUSG00000059552');
    expect(geneKey('ENSG00000182378.14_PAR_Y')).toBe('ENSG00000182378.14_PAR_Y');
    expect(geneKey('HLA-A.1')).toBe('HLA-A.1');
  });
});

describe('text stream', () => {
  async function decode(file: ReturnType<typeof memoryFile>): Promise<string> {
    let text = '';
    await readText(file, {
      push: (t) => {
        text += t;
        return true;
      },
      end: () => undefined,
    });
    return text;
  }

  it('decodes UTF-8 characters cut by chunk boundaries and drops a BOM', async () => {
    const content = '\uFEFFcontext,perturbation,Gène\nA549,10 µM 😀,1\n';
    for (const chunk of [1, 2, 3, 5])
      expect(await decode(memoryFile('u.csv', content, chunk))).toBe(content.slice(1));
  });

  it('keeps a zero-width no-break space that is not at the start of the file', async () => {
    const content = 'a'.repeat(32 * 1024) + '\uFEFF' + 'b'.repeat(40000) + '\uFEFF\n';
    expect(await decode(memoryFile('z.txt', content))).toBe(content);
    expect(await decode(memoryFile('z.txt', content, 1000))).toBe(content);
  });

  it('finds the first invalid UTF-8 byte', () => {
    expect(firstInvalidUtf8(utf8('abc é'))).toBe(-1);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xe9, 0x62]))).toBe(1);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xc3]))).toBe(-1);
    expect(firstInvalidUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBe(0);
  });

  it('computes the gzip CRC-32', () => {
    expect(crc32(0, utf8('123456789'))).toBe(0xcbf43926);
    expect(crc32(crc32(0, utf8('1234')), utf8('56789'))).toBe(0xcbf43926);
  });
});
