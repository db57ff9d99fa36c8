/**
 * A push-style tokenizer for delimited text (CSV, TSV, semicolon tables, GCT) and a strict number parser.
 *
 * Why not papaparse: its streaming entry points differ between the browser (File/Blob) and Node (Readable
 * streams) and none of them accepts text pushed chunk by chunk after our own gunzip and UTF-8 stages; its
 * row numbers count records, not source lines; and it allocates one string per field, which for a 200 MB
 * numeric table is tens of millions of short-lived strings. This tokenizer takes decoded text in any chunking,
 * handles RFC 4180 quoting (quoted delimiters, doubled quotes, line breaks inside quotes), and hands each
 * record to the caller as offsets into the current buffer, so numbers are parsed straight from the text and
 * every field knows its 1-based line and column for error messages. Identical in Node, the worker and tests.
 */
import { reject } from './failure';

export const NUM_OK = 0;
export const NUM_MISSING = 1;
export const NUM_INFINITE = 2;
export const NUM_INVALID = 3;

const QUOTE = 34;
const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
/** A record longer than this is taken as a file without line breaks rather than buffered further. */
const MAX_RECORD_CHARS = 64 * 1024 * 1024;
const F32_MAX = 3.4028234663852886e38;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Missing-value spellings, compared lower-case: "", NA, NaN, nan, null (and N/A, which Excel writes). */
export const MISSING_TOKENS: ReadonlySet<string> = new Set(['', 'na', 'nan', 'null', 'n/a']);
const INFINITE_TOKENS: ReadonlySet<string> = new Set([
  'inf',
  '-inf',
  '+inf',
  'infinity',
  '-infinity',
  '+infinity',
]);

/** One record, valid only during the callback: fields are offsets into the tokenizer's current buffer. */
export class Fields {
  src = '';
  count = 0;
  /** 1-based line where the record starts. */
  line = 0;
  /** Set by num(): NUM_OK, NUM_MISSING, NUM_INFINITE or NUM_INVALID. */
  status = NUM_OK;
  /** Accept "1,5" as 1.5 (semicolon-delimited European tables). */
  decimalComma = false;
  starts = new Int32Array(256);
  ends = new Int32Array(256);
  /** 0 plain, 1 quoted, 2 quoted with doubled quotes inside. */
  quotes = new Uint8Array(256);
  fieldLines = new Int32Array(256);
  multiLine = false;

  /** The field as text: unquoted, doubled quotes undone; unquoted fields are trimmed. */
  text(i: number): string {
    const s = this.src.slice(this.starts[i], this.ends[i]);
    const q = this.quotes[i];
    if (q === 2) return s.replace(/""/g, '"');
    return q ? s : s.trim();
  }

  /** 1-based line of field i (differs from `line` only after a quoted line break). */
  lineOf(i: number): number {
    return this.multiLine ? this.fieldLines[i] : this.line;
  }

  /**
   * Parses field i as a decimal number and sets `status`. Accepts [+-]digits[.digits][e[+-]digits] with
   * surrounding spaces; values beyond float32 range count as infinite. Returns 0 unless status is NUM_OK.
   */
  num(i: number): number {
    const s = this.src;
    let a = this.starts[i];
    let b = this.ends[i];
    while (a < b && (s.charCodeAt(a) === SPACE || s.charCodeAt(a) === TAB)) a++;
    while (b > a && (s.charCodeAt(b - 1) === SPACE || s.charCodeAt(b - 1) === TAB)) b--;
    if (a === b) {
      this.status = NUM_MISSING;
      return 0;
    }
    let k = a;
    let c = s.charCodeAt(k);
    let negative = false;
    if (c === 45 || c === 43) {
      negative = c === 45;
      k++;
    }
    let mantissa = 0;
    let significant = 0;
    let digits = 0;
    let exponent = 0;
    for (; k < b; k++) {
      const d = s.charCodeAt(k) - 48;
      if (d < 0 || d > 9) break;
      digits++;
      if (mantissa !== 0 || d !== 0) significant++;
      mantissa = mantissa * 10 + d;
    }
    c = s.charCodeAt(k);
    if (k < b && (c === 46 || (c === 44 && this.decimalComma))) {
      for (k++; k < b; k++) {
        const d = s.charCodeAt(k) - 48;
        if (d < 0 || d > 9) break;
        digits++;
        if (mantissa !== 0 || d !== 0) significant++;
        mantissa = mantissa * 10 + d;
        exponent--;
      }
    }
    if (digits === 0) return this.special(a, b);
    c = s.charCodeAt(k);
    if (k < b && (c === 101 || c === 69)) {
      k++;
      let expNegative = false;
      c = s.charCodeAt(k);
      if (c === 45 || c === 43) {
        expNegative = c === 45;
        k++;
      }
      let e = 0;
      let expDigits = 0;
      for (; k < b; k++) {
        const d = s.charCodeAt(k) - 48;
        if (d < 0 || d > 9) break;
        expDigits++;
        if (e < 100000) e = e * 10 + d;
      }
      if (expDigits === 0) return this.special(a, b);
      exponent += expNegative ? -e : e;
    }
    if (k !== b) return this.special(a, b);
    let value: number;
    if (significant > 15 || exponent < -22 || exponent > 22) {
      value = Math.abs(Number(s.slice(a, b).replace(',', '.')));
    } else {
      // Exact mantissa times an exact power of ten: one rounding, hence correctly rounded.
      value = exponent < 0 ? mantissa / POW10[-exponent] : mantissa * POW10[exponent];
    }
    if (!(value <= F32_MAX)) {
      this.status = NUM_INFINITE;
      return 0;
    }
    this.status = NUM_OK;
    return negative ? -value : value;
  }

  private special(a: number, b: number): number {
    const t = this.src.slice(a, b).toLowerCase();
    this.status = MISSING_TOKENS.has(t) ? NUM_MISSING : INFINITE_TOKENS.has(t) ? NUM_INFINITE : NUM_INVALID;
    return 0;
  }

  push(start: number, end: number, quote: number, line: number): void {
    if (this.count === this.starts.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const out = make(a.length * 2);
        out.set(a);
        return out;
      };
      this.starts = grow(this.starts, (n) => new Int32Array(n));
      this.ends = grow(this.ends, (n) => new Int32Array(n));
      this.fieldLines = grow(this.fieldLines, (n) => new Int32Array(n));
      this.quotes = grow(this.quotes, (n) => new Uint8Array(n));
    }
    const i = this.count++;
    this.starts[i] = start;
    this.ends[i] = end;
    this.quotes[i] = quote;
    this.fieldLines[i] = line;
  }
}

/**
 * Splits pushed text into records at LF or CRLF (not inside quotes) and fields at `delimiter`, calling
 * `onRecord` for each record that is not blank. Text may arrive in chunks of any size.
 */
export class RecordReader {
  readonly fields = new Fields();
  private readonly delim: number;
  private readonly delimChar: string;
  private carry = '';
  private pending: string[] = [];
  private pendingChars = 0;
  private nextLine = 1;

  private readonly limit: () => number;

  /**
   * `fieldLimit`, asked before each record: split at most that many fields; the last one then holds the rest
   * of the line unless a quote follows (used to read only the label columns of a wide table quickly).
   * Default: every field.
   */
  constructor(
    private readonly file: string,
    delimiter: string,
    private readonly onRecord: (f: Fields) => void,
    options: { fieldLimit?: () => number } = {},
  ) {
    this.limit = options.fieldLimit ?? (() => Infinity);
    this.delimChar = delimiter;
    this.delim = delimiter.charCodeAt(0);
    this.fields.decimalComma = delimiter === ';';
  }

  push(text: string): void {
    if (text.indexOf('\n') < 0) {
      this.pending.push(text);
      this.pendingChars += text.length;
      if (this.carry.length + this.pendingChars > MAX_RECORD_CHARS) {
        reject({
          file: this.file,
          line: this.nextLine,
          expected: 'lines of text separated by line breaks',
          found: `a line longer than ${MAX_RECORD_CHARS / 1024 / 1024} MiB characters`,
        });
      }
      return;
    }
    const buf = this.carry + (this.pending.length ? this.pending.join('') : '') + text;
    this.pending = [];
    this.pendingChars = 0;
    this.carry = buf.slice(this.process(buf, false));
  }

  end(): void {
    const buf = this.carry + this.pending.join('');
    this.carry = '';
    this.pending = [];
    if (buf.length) this.process(buf, true);
  }

  /** Emits every complete record of `buf`; returns where the first incomplete one starts. */
  private process(buf: string, final: boolean): number {
    const n = buf.length;
    const f = this.fields;
    f.src = buf;
    let pos = 0;
    let nextQuote = -2;
    let nextDelim = -2;
    while (pos < n) {
      let nl = buf.indexOf('\n', pos);
      let next: number;
      if (nl < 0) {
        if (!final) break;
        nl = n;
        next = n;
      } else next = nl + 1;
      let lineEnd = nl;
      if (lineEnd > pos && buf.charCodeAt(lineEnd - 1) === CR) lineEnd--;
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = buf.indexOf('"', pos);
      if (nextQuote !== -1 && nextQuote < lineEnd) {
        const after = this.quotedRecord(buf, pos, final);
        if (after < 0) break;
        pos = after;
        continue;
      }
      if (isBlank(buf, pos, lineEnd)) {
        this.nextLine++;
        pos = next;
        continue;
      }
      f.count = 0;
      f.multiLine = false;
      f.line = this.nextLine;
      let p = pos;
      const last = this.limit() - 1;
      for (;;) {
        if (f.count === last) {
          f.push(p, lineEnd, 0, f.line);
          break;
        }
        if (nextDelim !== -1 && nextDelim < p) nextDelim = buf.indexOf(this.delimChar, p);
        const d = nextDelim === -1 || nextDelim >= lineEnd ? lineEnd : nextDelim;
        f.push(p, d, 0, f.line);
        if (d === lineEnd) break;
        p = d + 1;
      }
      this.onRecord(f);
      this.nextLine++;
      pos = next;
    }
    return pos;
  }

  /** Slow path for a record with quotes; returns the position after it, or -1 when it needs more text. */
  private quotedRecord(buf: string, pos: number, final: boolean): number {
    const n = buf.length;
    const f = this.fields;
    f.count = 0;
    f.multiLine = true;
    f.line = this.nextLine;
    let line = this.nextLine;
    let i = pos;
    // Next line feed and next delimiter at or after i (n when none), refreshed as i passes them.
    let lf = -1;
    let delimAt = -1;
    const last = this.limit() - 1;
    const emit = (after: number, lineBreaks: number): number => {
      this.onRecord(f);
      this.nextLine = line + lineBreaks;
      return after;
    };
    for (;;) {
      if (i < n && buf.charCodeAt(i) === QUOTE) {
        const open = i;
        const fieldLine = line;
        let j = i + 1;
        let doubled = false;
        let close: number;
        for (;;) {
          const q = buf.indexOf('"', j);
          if (q < 0) {
            if (!final) return -1;
            reject({
              file: this.file,
              line: fieldLine,
              column: f.count + 1,
              expected: 'a closing quote (") for the quoted field',
              found: 'the end of the file',
            });
          }
          if (q + 1 >= n && !final) return -1;
          if (buf.charCodeAt(q + 1) === QUOTE) {
            doubled = true;
            j = q + 2;
            continue;
          }
          close = q;
          break;
        }
        for (let k = buf.indexOf('\n', open); k >= 0 && k < close; k = buf.indexOf('\n', k + 1)) line++;
        i = close + 1;
        while (i < n && buf.charCodeAt(i) === SPACE) i++;
        if (i >= n && !final) return -1;
        const c = i < n ? buf.charCodeAt(i) : -1;
        if (c === this.delim || c === LF || c === -1 || (c === CR && buf.charCodeAt(i + 1) === LF)) {
          f.push(open + 1, close, doubled ? 2 : 1, fieldLine);
        } else if (c === CR && i + 1 >= n && !final) {
          return -1;
        } else {
          // Text after a closing quote: keep the whole field literally, as spreadsheet programs do.
          let e = i;
          while (e < n && buf.charCodeAt(e) !== this.delim && buf.charCodeAt(e) !== LF) e++;
          if (e >= n && !final) return -1;
          i = e;
          let end = e;
          if (end > open && buf.charCodeAt(end - 1) === CR && buf.charCodeAt(e) === LF) end--;
          f.push(open, end, 0, fieldLine);
        }
      } else {
        if (lf < i) {
          lf = buf.indexOf('\n', i);
          if (lf < 0) lf = n;
        }
        if (delimAt < i) {
          delimAt = buf.indexOf(this.delimChar, i);
          if (delimAt < 0) delimAt = n;
        }
        let e = delimAt < lf ? delimAt : lf;
        if (f.count === last) {
          const q = buf.indexOf('"', i);
          if (q < 0 || q > lf) e = lf;
        }
        if (e >= n && !final) return -1;
        let end = e;
        if (e < n && buf.charCodeAt(e) === LF && end > i && buf.charCodeAt(end - 1) === CR) end--;
        f.push(i, end, 0, line);
        i = e;
      }
      // i is at a delimiter, a line break (LF or CRLF) or the end of the text.
      if (i >= n) return emit(n, 1);
      const c = buf.charCodeAt(i);
      if (c === this.delim) {
        i++;
        continue;
      }
      if (c === CR) return emit(i + 2, 1);
      return emit(i + 1, 1);
    }
  }
}

function isBlank(buf: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf.charCodeAt(i) !== SPACE) return false;
  return true;
}
