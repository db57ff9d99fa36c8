/**
 * Bytes to text, streaming: magic-byte checks (gzip, ZIP/xlsx, HDF5, ...), streaming gunzip with fflate,
 * binary detection (a NUL byte in the first KiB; UTF-16 without a byte-order mark named as such), strict
 * UTF-8 decoding per chunk with the line and column of the first bad byte or control character, progress per
 * chunk and cooperative stopping. Memory stays bounded by one chunk.
 */
import { Gunzip } from 'fflate';
import { abortError, formatBinaryBytes, reject } from './failure';
import type { InputFile, LoadProgress } from './source';
import { concat, startsWith, Utf8Stage, type TextSink } from './utf8-stage';

export interface ReadOptions {
  onProgress?: (p: LoadProgress) => void;
  shouldStop?: () => boolean;
}

export interface ReadSummary {
  gzip: boolean;
  /** Bytes read from the stored file. */
  bytesRead: number;
  /** Bytes of (decompressed) text passed to the decoder. */
  textBytes: number;
}

const GUNZIP_INPUT = 512 * 1024;
/** 10-byte header, the smallest deflate block (2 bytes) and the 8-byte trailer. */
const GZIP_MIN_BYTES = 18;

interface Magic {
  bytes: number[];
  what: string;
}

const FOREIGN_MAGIC: Magic[] = [
  {
    bytes: [0x50, 0x4b, 0x03, 0x04],
    what: 'a ZIP archive (an .xlsx workbook?); export the sheet as CSV or TSV',
  },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0], what: 'an old Excel (.xls) workbook; export the sheet as CSV or TSV' },
  { bytes: [0x89, 0x48, 0x44, 0x46], what: 'an HDF5 file (.h5ad or .h5); export the effects as CSV or TSV' },
  { bytes: [0x50, 0x41, 0x52, 0x31], what: 'a Parquet file; export it as CSV or TSV' },
  { bytes: [0x42, 0x5a, 0x68], what: 'bzip2-compressed data; only gzip (.gz) is supported' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58], what: 'xz-compressed data; only gzip (.gz) is supported' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], what: 'zstd-compressed data; only gzip (.gz) is supported' },
];

const CRC_TABLE = ((): Int32Array => {
  const t = new Int32Array(1024);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 4; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 255];
  }
  return t;
})();

/**
 * CRC-32 (gzip's checksum), slice-by-4. fflate does not verify the gzip trailer, and a flipped bit inside a
 * deflate block can decode to plausible but wrong digits, so the loader checks it (about 2 ns per byte).
 */
export function crc32(crc: number, data: Uint8Array): number {
  const T = CRC_TABLE;
  let c = ~crc;
  const n = data.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    c ^= data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    c = T[768 + (c & 255)] ^ T[512 + ((c >>> 8) & 255)] ^ T[256 + ((c >>> 16) & 255)] ^ T[c >>> 24];
  }
  for (; i < n; i++) c = T[(c ^ data[i]) & 255] ^ (c >>> 8);
  return ~c >>> 0;
}
function keepTail(tail: Uint8Array, chunk: Uint8Array): void {
  if (chunk.length >= 8) {
    tail.set(chunk.subarray(chunk.length - 8));
    return;
  }
  tail.copyWithin(0, chunk.length);
  tail.set(chunk, 8 - chunk.length);
}

/**
 * Streams `file` through gunzip (when its first bytes are the gzip magic 1f 8b) and strict UTF-8 decoding
 * into `sink`. Rejections (InputFailure) name the file and, where one applies, the line and column.
 * Rejects with an AbortError when `shouldStop` returns true between chunks.
 */
export async function readText(
  file: InputFile,
  sink: TextSink,
  options: ReadOptions & { stage?: string } = {},
): Promise<ReadSummary> {
  const utf8 = new Utf8Stage(file.name, sink);
  const reader = file.stream().getReader();
  let gunzip: Gunzip | undefined;
  let downstream: unknown;
  let members = 1;
  let crc = 0;
  let inflated = 0;
  const trailer = new Uint8Array(8);
  let head: Uint8Array | undefined = new Uint8Array(0);
  let bytesRead = 0;
  let finished = false;
  let next: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;

  const truncated = (): never =>
    reject({
      file: file.name,
      expected: 'a valid gzip stream',
      found: `a truncated gzip stream (the file ends after ${formatBinaryBytes(bytesRead)}, before its compressed data does; was the download or copy cut short?)`,
    });
  const corrupt = (e: unknown): never => {
    if (e instanceof Error && e.message === 'unexpected EOF') truncated();
    return reject({
      file: file.name,
      expected: 'a valid gzip stream',
      found: `corrupt gzip data (${e instanceof Error ? e.message : String(e)}) within the first ${formatBinaryBytes(bytesRead)}`,
    });
  };

  // Single-member gzip (the usual case) ends with CRC-32 and size mod 2^32 of the text; bgzip-style
  // multi-member files are decoded without this check.
  const checkTrailer = (): void => {
    if (members !== 1 || bytesRead < GZIP_MIN_BYTES) return;
    const view = new DataView(trailer.buffer);
    const expectedCrc = view.getUint32(0, true);
    const expectedSize = view.getUint32(4, true);
    if (expectedCrc !== crc || expectedSize !== inflated % 2 ** 32) {
      corrupt(new Error(expectedSize !== inflated % 2 ** 32 ? 'length mismatch' : 'checksum mismatch'));
    }
  };

  // fflate inflates faster from larger inputs, so small compressed chunks are gathered first.
  let gathered: Uint8Array[] = [];
  let gatheredBytes = 0;
  const feed = (chunk: Uint8Array, final: boolean): void => {
    if (!gunzip) {
      utf8.bytes(chunk);
      return;
    }
    gathered.push(chunk);
    gatheredBytes += chunk.length;
    if (!final && gatheredBytes < GUNZIP_INPUT) return;
    const input = gathered.length === 1 ? gathered[0] : new Uint8Array(gatheredBytes);
    if (gathered.length > 1) {
      let at = 0;
      for (const part of gathered) {
        input.set(part, at);
        at += part.length;
      }
    }
    gathered = [];
    gatheredBytes = 0;
    try {
      gunzip.push(input, final);
    } catch (e) {
      // Errors of the text stages and parsers pass through fflate unchanged; only fflate's own mean corruption.
      if (e === downstream) throw e;
      corrupt(e);
    }
  };

  const start = (bytes: Uint8Array): void => {
    head = undefined;
    if (startsWith(bytes, [0x1f, 0x8b])) {
      gunzip = new Gunzip((data) => {
        crc = crc32(crc, data);
        inflated += data.length;
        try {
          utf8.bytes(data);
        } catch (e) {
          downstream = e;
          throw e;
        }
      });
      gunzip.onmember = () => members++;
    } else {
      const foreign = FOREIGN_MAGIC.find((m) => startsWith(bytes, m.bytes));
      if (foreign)
        reject({
          file: file.name,
          expected: 'a text table (CSV, TSV or GCT, optionally gzipped)',
          found: foreign.what,
        });
    }
    feed(bytes, false);
  };

  try {
    // One read stays in flight while a chunk is parsed, so file I/O overlaps with the parsing.
    next = reader.read();
    for (;;) {
      if (options.shouldStop?.()) throw abortError();
      const { value, done } = await next;
      if (done) break;
      next = reader.read();
      bytesRead += value.length;
      keepTail(trailer, value);
      if (head) {
        head = head.length ? concat(head, value) : value;
        if (head.length >= 4) start(head);
      } else feed(value, false);
      if (utf8.stopped) break;
      options.onProgress?.({
        file: file.name,
        bytesRead,
        totalBytes: file.size,
        stage: options.stage ?? 'reading',
      });
    }
    if (!utf8.stopped) {
      finished = true;
      if (head) start(head);
      if (gunzip) {
        feed(new Uint8Array(0), true);
        // fflate accepts a stream cut inside its header without a word; no gzip member is under 18 bytes.
        if (bytesRead < GZIP_MIN_BYTES) truncated();
        checkTrailer();
      }
    }
    utf8.finish();
  } finally {
    // A read still in flight may fail once the stream is cancelled; nobody waits for it any more.
    next?.catch(() => undefined);
    if (!finished) await reader.cancel().catch(() => undefined);
  }
  return { gzip: gunzip !== undefined, bytesRead, textBytes: utf8.total };
}
