/**
 * Entry point of the input layer: detects each file's format from its content, streams it into a dense
 * EffectTensor with validation that names file, line and column, merges several files, and checks that the
 * result can support transfer between contexts. Pure TypeScript: runs in the worker, in Node and in tests.
 */
import {
  CountsParser,
  SheetParser,
  effectsFromCounts,
  isSampleSheetHeader,
  type CountsMatrix,
  type SampleSheet,
  type SheetRow,
} from './counts';
import { InputFailure, abortError, formatBytes, isAbortError, listSome, quoted, reject } from './failure';
import { GctParser, gctVersion } from './gct';
import { CONTEXT_ALIASES, PERTURBATION_ALIASES, detectDelimiter, findColumn, type Delimiter } from './labels';
import { LongParser, isLongHeader } from './long';
import { checkTransferable, mergeParts } from './merge';
import { RecordReader } from './records';
import { fail, type ParseResult } from './result';
import { DEFAULT_MEMORY_BUDGET, type InputFile, type LoadOptions } from './source';
import { plural, type EffectPart, type ParseContext, type RecordSink, type SourceFormat } from './table';
import type { EffectTensor } from './tensor';
import { readText, type TextSink } from './text-stream';
import { WideLabelScan, WideParser } from './wide';

export type { InputFile, LoadOptions, LoadProgress } from './source';
export { selectVariableGenes, type SelectGenesOptions } from './select';

export interface SourceInfo {
  file: string;
  format: SourceFormat;
  /** Data rows read: table rows, GCT signatures, counts-matrix genes or sample-sheet rows. */
  rows: number;
  contexts: number;
  perturbations: number;
  /** Genes this file contributed before files were intersected (0 for a sample sheet). */
  genes: number;
}

export interface LoadedDataset {
  tensor: EffectTensor;
  sources: SourceInfo[];
  /** What the loader decided on the user's behalf (averaging, imputation, dropped genes...), one sentence each. */
  notes: string[];
}

/** gzip text is assumed to expand about four-fold when the budget is checked before reading. */
const GZIP_EXPANSION = 4;
/** Longest first line the sniffer buffers before giving up on finding a line break. */
const SNIFF_LIMIT = 16 * 1024 * 1024;

type Role = 'gct' | 'wide' | 'long' | 'counts' | 'sheet';

interface Sniffed {
  file: InputFile;
  gzip: boolean;
  gct: boolean;
  delimiter: Delimiter;
  header: string[];
}

/** Reads just enough of a file to see its first line (GCT) or its header line (tables). */
async function sniff(file: InputFile): Promise<Sniffed> {
  let text = '';
  let line = '';
  let found = false;
  let lineNo = 0;
  let first = true;
  const take = (final: boolean): boolean => {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0 && !final) break;
      const raw = text.slice(start, nl < 0 ? text.length : nl);
      lineNo++;
      const trimmed = raw.replace(/\r$/, '');
      const isFirst = first;
      first = false;
      if (isFirst && gctVersion(trimmed)) {
        line = trimmed;
        return true;
      }
      if (trimmed.includes('\r')) {
        reject({
          file: file.name,
          line: lineNo,
          expected: 'lines ending in LF or CRLF',
          found: 'lines ending in CR alone (old Mac format); save the file with standard line breaks',
        });
      }
      if (trimmed.trim() !== '' && !trimmed.trimStart().startsWith('#')) {
        line = trimmed;
        return true;
      }
      if (nl < 0) break;
      start = nl + 1;
    }
    text = text.slice(start);
    return false;
  };
  const sink: TextSink = {
    push(chunk) {
      text += chunk;
      if (chunk.includes('\n') && take(false)) {
        found = true;
        return false;
      }
      if (text.length > SNIFF_LIMIT) {
        line = text;
        found = true;
        return false;
      }
      return true;
    },
    end() {
      if (!found && take(true)) found = true;
    },
  };
  const summary = await readText(file, sink);
  if (!found) {
    reject({
      file: file.name,
      expected: 'a table with a header line',
      found: 'an empty file (only blank or comment lines)',
    });
  }
  const gct = gctVersion(line) !== undefined;
  const delimiter: Delimiter = gct ? '\t' : detectDelimiter(line, file.name);
  const header: string[] = [];
  if (!gct) {
    const reader = new RecordReader(file.name, delimiter, (f) => {
      if (header.length === 0) for (let i = 0; i < f.count; i++) header.push(f.text(i));
    });
    reader.push(`${line}\n`);
    reader.end();
  }
  return { file, gzip: summary.gzip, gct, delimiter, header };
}

function assignRoles(sniffed: readonly Sniffed[]): Role[] {
  const initial = sniffed.map((s): Role | 'sheet?' | 'counts?' => {
    if (s.gct) return 'gct';
    if (isLongHeader(s.header)) return 'long';
    if (isSampleSheetHeader(s.header)) return 'sheet?';
    if (findColumn(s.header, CONTEXT_ALIASES) >= 0 && findColumn(s.header, PERTURBATION_ALIASES) >= 0)
      return 'wide';
    return 'counts?';
  });
  const pairing = initial.includes('sheet?') && initial.includes('counts?');
  // Without a partner, a sheet-like table is a wide table with a sample column, and a table without label
  // columns is a wide table the wide parser rejects with a precise message.
  return initial.map((r) =>
    r === 'sheet?' ? (pairing ? 'sheet' : 'wide') : r === 'counts?' ? (pairing ? 'counts' : 'wide') : r,
  );
}

function estimatedTextBytes(file: InputFile, gzip: boolean): number {
  return gzip ? file.size * GZIP_EXPANSION : file.size;
}

function checkBudget(files: readonly InputFile[], gzip: readonly boolean[], budget: number): void {
  const estimates = files.map((f, i) => estimatedTextBytes(f, gzip[i]));
  const total = estimates.reduce((a, b) => a + b, 0);
  if (total <= budget) return;
  const largest = estimates.indexOf(Math.max(...estimates));
  const detail = files
    .map((f, i) =>
      gzip[i]
        ? `${f.name}: ${formatBytes(f.size)} gzip, about ${formatBytes(estimates[i])} of text`
        : `${f.name}: ${formatBytes(f.size)}`,
    )
    .join('; ');
  reject({
    file: files[largest].name,
    expected: `input that fits the memory budget of ${formatBytes(budget)}`,
    found: `about ${formatBytes(total)} of text (${detail}); nothing was read`,
  });
}

function looksGzipByName(name: string): boolean {
  return /\.(gz|gzip|bgz)$/i.test(name);
}

/**
 * Streams one file through the tokenizer into `parser`. `stage` names the pass in progress events; the
 * 'reading' pass of a file is followed by a 'building' event.
 */
async function parseFile<T>(
  s: Sniffed,
  parser: RecordSink<T> & { fieldLimit?: number },
  options: LoadOptions,
  stage: 'scanning' | 'reading' = 'reading',
): Promise<T> {
  const reader = new RecordReader(s.file.name, s.delimiter, (f) => parser.record(f), {
    fieldLimit: () => parser.fieldLimit ?? Infinity,
  });
  const summary = await readText(
    s.file,
    {
      push(text) {
        reader.push(text);
        return true;
      },
      end() {
        reader.end();
      },
    },
    { onProgress: options.onProgress, shouldStop: options.shouldStop, stage },
  );
  if (stage === 'reading') {
    options.onProgress?.({
      file: s.file.name,
      bytesRead: summary.bytesRead,
      totalBytes: s.file.size,
      stage: 'building',
    });
  }
  return parser.finish();
}

interface Pairing {
  parts: EffectPart[];
  sources: SourceInfo[];
}

/** Joins sample sheets with counts matrices and computes effects per matrix. */
function pairCounts(
  matrices: readonly CountsMatrix[],
  sheets: readonly SampleSheet[],
  notes: string[],
): Pairing {
  const bySample = new Map<string, { sheet: SampleSheet; row: SheetRow }>();
  for (const sheet of sheets) {
    for (const row of sheet.rows) {
      const prior = bySample.get(row.sample);
      if (prior) {
        reject({
          file: sheet.file,
          line: row.line,
          column: sheet.sampleColumn + 1,
          expected: 'each sample in one sample sheet only',
          found: `${quoted(row.sample)}, already in ${prior.sheet.file} on line ${prior.row.line}`,
        });
      }
      bySample.set(row.sample, { sheet, row });
    }
  }
  const owner = new Map<string, number>();
  matrices.forEach((m, i) => m.samples.forEach((s) => owner.has(s) || owner.set(s, i)));
  for (const { sheet, row } of bySample.values()) {
    if (!owner.has(row.sample)) {
      reject({
        file: sheet.file,
        line: row.line,
        column: sheet.sampleColumn + 1,
        expected: `a sample that is a column of the counts matrix (${matrices.map((m) => m.file).join(', ')})`,
        found: `${quoted(row.sample)}, which is not`,
      });
    }
  }
  const parts: EffectPart[] = [];
  const sources: SourceInfo[] = [];
  matrices.forEach((m, i) => {
    const rows = [...bySample.values()].filter((e) => owner.get(e.row.sample) === i);
    if (!rows.length) {
      reject({
        file: m.file,
        line: m.headerLine,
        expected: 'sample columns listed in the sample sheet',
        found: `none of its ${plural(m.samples.length, 'sample')} (${listSome(
          m.samples.map((s) => quoted(s, 20)),
          3,
        )})`,
      });
    }
    const unlisted = m.samples.filter((s) => !bySample.has(s));
    if (unlisted.length) {
      notes.push(
        `${m.file}: ${plural(unlisted.length, 'sample')} not in the sample sheet ignored: ${listSome(unlisted)}.`,
      );
    }
    // Rows of one matrix all come from the sheets; group them under the first sheet for messages.
    const sheet = rows[0].sheet;
    const part = effectsFromCounts(
      m,
      sheet,
      rows.map((e) => e.row),
      notes,
    );
    parts.push(part);
    sources.push({
      file: m.file,
      format: 'counts',
      rows: m.genes.length,
      contexts: part.tensor.contexts.length,
      perturbations: part.tensor.perturbations.length,
      genes: part.tensor.genes.length,
    });
  });
  for (const sheet of sheets) {
    const contexts = new Set(sheet.rows.map((r) => r.context.toLowerCase()));
    const perts = new Set(sheet.rows.filter((r) => !r.control).map((r) => r.perturbation.toLowerCase()));
    sources.push({
      file: sheet.file,
      format: 'sample-sheet',
      rows: sheet.rows.length,
      contexts: contexts.size,
      perturbations: perts.size,
      genes: 0,
    });
  }
  return { parts, sources };
}

async function load(
  files: readonly InputFile[],
  options: LoadOptions,
  current: { file: string },
): Promise<ParseResult<LoadedDataset>> {
  const budget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET;
  if (!files.length) return fail({ file: '(no file)', expected: 'at least one file', found: 'none' });
  checkBudget(
    files,
    files.map((f) => looksGzipByName(f.name)),
    budget,
  );
  const sniffed: Sniffed[] = [];
  for (const file of files) {
    current.file = file.name;
    if (options.shouldStop?.()) throw abortError();
    sniffed.push(await sniff(file));
  }
  checkBudget(
    files,
    sniffed.map((s) => s.gzip),
    budget,
  );
  const roles = assignRoles(sniffed);
  const notes: string[] = [];
  const parts: EffectPart[] = [];
  const sources: SourceInfo[] = [];
  const matrices: CountsMatrix[] = [];
  const sheets: SampleSheet[] = [];
  for (let i = 0; i < sniffed.length; i++) {
    const s = sniffed[i];
    current.file = s.file.name;
    const ctx: ParseContext = {
      file: s.file.name,
      keepDoseTime: options.keepDoseTime ?? false,
      budgetBytes: budget,
      notes,
    };
    const role = roles[i];
    if (role === 'counts') {
      matrices.push(await parseFile(s, new CountsParser(ctx), options));
      continue;
    }
    if (role === 'sheet') {
      sheets.push(await parseFile(s, new SheetParser(ctx), options));
      continue;
    }
    let part: EffectPart;
    if (role === 'wide') {
      const labels = await parseFile(s, new WideLabelScan(ctx), options, 'scanning');
      part = await parseFile(s, new WideParser(ctx, labels), options);
    } else {
      part = await parseFile<EffectPart>(
        s,
        role === 'gct' ? new GctParser(ctx) : new LongParser(ctx),
        options,
      );
    }
    parts.push(part);
    sources.push({
      file: s.file.name,
      format: part.format,
      rows: part.rows,
      contexts: part.tensor.contexts.length,
      perturbations: part.tensor.perturbations.length,
      genes: part.tensor.genes.length,
    });
  }
  if (matrices.length) {
    current.file = matrices.map((m) => m.file).join(', ');
    const paired = pairCounts(matrices, sheets, notes);
    parts.push(...paired.parts);
    sources.push(...paired.sources);
  }
  const allFiles = files.map((f) => f.name).join(', ');
  current.file = allFiles;
  if (options.shouldStop?.()) throw abortError();
  options.onProgress?.({ file: allFiles, bytesRead: 0, totalBytes: 0, stage: 'merging' });
  const tensor = mergeParts(parts, notes, budget);
  checkTransferable(tensor, allFiles, notes);
  return { ok: true, data: { tensor, sources, notes }, notes };
}

/**
 * Loads effects from the given files (wide or long CSV/TSV, GCT 1.2/1.3, counts matrix + sample sheet, any of
 * them gzipped) into one EffectTensor: values C*P*G float32, row-major by (context, perturbation, gene), in
 * the files' own units (log fold change or z-score; for counts, differences of log2(CPM + 1), with basal
 * log2(CPM + 1) per context). Contexts and perturbations keep their order of first appearance, genes the
 * order of the first file. Every problem with the input comes back as `ok: false` with file, line, column,
 * expected and found; nothing partial is returned. The promise rejects only with an AbortError, when
 * `options.shouldStop` asked to stop.
 */
export async function loadDataset(
  files: readonly InputFile[],
  options: LoadOptions = {},
): Promise<ParseResult<LoadedDataset>> {
  const current = { file: files.map((f) => f.name).join(', ') || '(no file)' };
  try {
    return await load(files, options, current);
  } catch (e) {
    if (e instanceof InputFailure) return { ok: false, error: e.error };
    if (isAbortError(e)) throw e;
    if (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'NotReadableError') {
      // What browsers (and Node's openAsBlob) raise for a folder, or a file moved or changed since it was chosen.
      return fail({
        file: current.file,
        expected: 'a file the loader can read',
        found:
          'something that could not be read as a file (a folder, or a file moved, changed or locked since it was chosen)',
      });
    }
    return fail({
      file: current.file,
      expected: 'a file the loader can read',
      found: `an internal error (${e instanceof Error ? e.message : String(e)})`,
    });
  }
}
