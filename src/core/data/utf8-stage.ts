/**
 * Strict UTF-8 decoding of a byte stream, chunk by chunk, with the line and column of the first bad byte or
 * control character, after a binary probe of the first KiB (a NUL byte; UTF-16 without a byte-order mark).
 */
import { reject } from './failure';

/** Receives decoded text in order; `push` returns false to stop reading early (used to sniff headers). */
export interface TextSink {
  push(text: string): boolean;
  end(): void;
}

const BINARY_PROBE = 1024;
const DECODE_PIECE = 32 * 1024;
const EMPTY = new Uint8Array(0);
/** C0 control characters other than tab, LF and CR: no text table holds them, binary data or damage does. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;
const CONTROL_NAMES: Record<number, string> = {
  0x00: 'NUL',
  0x07: 'BEL',
  0x08: 'backspace',
  0x0b: 'vertical tab',
  0x0c: 'form feed',
  0x1a: 'Ctrl-Z',
  0x1b: 'ESC',
};
const NEWLINE = 10;

export function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  if (bytes.length < prefix.length) return false;
  return prefix.every((b, i) => bytes[i] === b);
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function countByte(bytes: Uint8Array, byte: number, end: number): number {
  let n = 0;
  let i = bytes.indexOf(byte);
  while (i >= 0 && i < end) {
    n++;
    i = bytes.indexOf(byte, i + 1);
  }
  return n;
}

/** Characters (UTF-8 lead bytes) in bytes[start, end). */
function countChars(bytes: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) if ((bytes[i] & 0xc0) !== 0x80) n++;
  return n;
}

/** Length of an incomplete UTF-8 sequence at the end of `bytes` (0 when it ends on a character boundary). */
function incompleteTail(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back];
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/** Index of the first byte that starts an invalid UTF-8 sequence, or -1 (a sequence cut by the end is valid). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return -1;
      const c = bytes[i + k];
      if (k === 1 ? c < lo || c > hi : (c & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return -1;
}

/**
 * 'little-endian' or 'big-endian' when `bytes` look like UTF-16 text without a byte-order mark: mostly
 * ASCII, so a zero in (nearly) every other byte and in no byte between.
 */
function utf16Without(bytes: Uint8Array): 'little-endian' | 'big-endian' | undefined {
  const pairs = bytes.length >> 1;
  if (pairs < 2) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < pairs * 2; i += 2) {
    if (bytes[i] === 0) evenZeros++;
    if (bytes[i + 1] === 0) oddZeros++;
  }
  if (oddZeros >= 0.9 * pairs && evenZeros <= 0.1 * pairs) return 'little-endian';
  if (evenZeros >= 0.9 * pairs && oddZeros <= 0.1 * pairs) return 'big-endian';
  return undefined;
}

/** Code points of `text` in [start, end) (a surrogate pair is one character, as in the byte count). */
function countCodePoints(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

/** Strict UTF-8 decoding with line/column bookkeeping, after a binary probe of the first KiB. */
export class Utf8Stage {
  /** Pieces are decoded independently: only the first may start with a byte-order mark to drop. */
  private decoder = new TextDecoder('utf-8', { fatal: true });
  private pastFirstPiece = false;
  private head: Uint8Array[] = [];
  private headBytes = 0;
  private probing = true;
  /** Newlines and characters after the last newline, over the bytes decoded so far (without `tail`). */
  private newlines = 0;
  private column = 0;
  /** Bytes of a character cut by the end of the previous chunk. */
  private tail: Uint8Array = EMPTY;
  total = 0;
  stopped = false;

  constructor(
    private readonly file: string,
    private readonly sink: TextSink,
  ) {}

  bytes(chunk: Uint8Array): void {
    if (this.stopped || chunk.length === 0) return;
    this.total += chunk.length;
    if (this.probing) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      if (this.headBytes >= BINARY_PROBE) this.flushHead();
      return;
    }
    this.decode(chunk);
  }

  finish(): void {
    if (this.probing) this.flushHead();
    if (this.stopped) return;
    if (this.total === 0)
      reject({ file: this.file, expected: 'a table with a header line', found: 'an empty file' });
    if (this.tail.length) {
      if (firstInvalidUtf8(this.tail) >= 0) this.invalid(this.tail);
      reject({
        file: this.file,
        line: this.newlines + 1,
        column: this.column + 1,
        expected: 'UTF-8 text',
        found: 'a UTF-8 character cut off by the end of the file',
      });
    }
    this.sink.end();
  }

  private flushHead(): void {
    this.probing = false;
    const all = this.head.length === 1 ? this.head[0] : new Uint8Array(this.headBytes);
    if (this.head.length > 1) {
      let at = 0;
      for (const part of this.head) {
        all.set(part, at);
        at += part.length;
      }
    }
    this.head = [];
    if (startsWith(all, [0xff, 0xfe]) || startsWith(all, [0xfe, 0xff])) {
      reject({
        file: this.file,
        line: 1,
        expected: 'UTF-8 text',
        found: 'UTF-16 text; save the file as UTF-8',
      });
    }
    const utf16 = utf16Without(all.subarray(0, BINARY_PROBE));
    if (utf16) {
      reject({
        file: this.file,
        line: 1,
        expected: 'UTF-8 text',
        found: `UTF-16 text (${utf16}, without a byte-order mark); save the file as UTF-8`,
      });
    }
    const nul = all.subarray(0, BINARY_PROBE).indexOf(0);
    if (nul >= 0) {
      reject({
        file: this.file,
        expected: 'a text file (CSV, TSV or GCT, optionally gzipped)',
        found: `a binary file (a NUL byte at byte ${nul + 1})`,
      });
    }
    if (all.length) this.decode(all);
  }

  /**
   * Decodes whole characters only, in pieces of at most DECODE_PIECE bytes, and keeps a character cut by the
   * chunk end for the next chunk. (Node's TextDecoder is several times faster on pieces up to 64 KiB and
   * without its streaming mode; the result is the same.)
   */
  private decode(chunk: Uint8Array): void {
    const bytes = this.tail.length ? concat(this.tail, chunk) : chunk;
    const end = bytes.length - incompleteTail(bytes);
    this.tail = end < bytes.length ? bytes.slice(end) : EMPTY;
    for (let start = 0; start < end && !this.stopped;) {
      let stop = Math.min(end, start + DECODE_PIECE);
      while (stop < end && stop > start + 1 && (bytes[stop] & 0xc0) === 0x80) stop--;
      const piece = bytes.subarray(start, stop);
      let text: string;
      try {
        text = this.decoder.decode(piece);
      } catch {
        this.invalid(piece);
      }
      if (!this.pastFirstPiece) {
        this.pastFirstPiece = true;
        this.decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
      }
      const control = text.search(CONTROL);
      if (control >= 0) this.control(text, control);
      const last = piece.lastIndexOf(NEWLINE);
      if (last >= 0) {
        this.newlines += countByte(piece, NEWLINE, piece.length);
        this.column = countChars(piece, last + 1, piece.length);
      } else {
        this.column += countChars(piece, 0, piece.length);
      }
      if (!this.sink.push(text)) this.stopped = true;
      start = stop;
    }
  }

  /** Rejects the control character at `at` of `text`, the piece decoded after the bookkeeping so far. */
  private control(text: string, at: number): never {
    let line = this.newlines + 1;
    let lineStart = -1;
    for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) {
      line++;
      lineStart = i;
    }
    const column =
      (lineStart >= 0
        ? countCodePoints(text, lineStart + 1, at)
        : this.column + countCodePoints(text, 0, at)) + 1;
    const code = text.charCodeAt(at);
    const name = CONTROL_NAMES[code];
    reject({
      file: this.file,
      line,
      column,
      expected: 'text without control characters',
      found: `the control character 0x${code.toString(16).padStart(2, '0')}${name ? ` (${name})` : ''}, which a text table never holds (binary data, or a damaged file?)`,
    });
  }

  private invalid(bytes: Uint8Array): never {
    const bad = Math.max(0, firstInvalidUtf8(bytes));
    const last = bytes.lastIndexOf(NEWLINE, bad - 1);
    const line = this.newlines + 1 + (bad > 0 ? countByte(bytes, NEWLINE, bad) : 0);
    const column =
      (last >= 0 && bad > 0 ? countChars(bytes, last + 1, bad) : this.column + countChars(bytes, 0, bad)) + 1;
    const hex = bytes[bad]?.toString(16).padStart(2, '0') ?? '??';
    reject({
      file: this.file,
      line,
      column,
      expected: 'UTF-8 text',
      found: `the byte 0x${hex}, which is not UTF-8 (Latin-1 or Windows-1252?); save the file as UTF-8`,
    });
  }
}

/** Keeps the last 8 bytes seen in `tail` (the gzip trailer once the stream ends). */
