/**
 * Entry point of the input layer: detects each file's format from its content, streams it into a dense
 * EffectTensor with validation that names file, line and column, merges several files, and checks that the
 * result can support transfer between contexts. Pure TypeScript: runs in the worker, in Node and in tests.
 */
import { CountsParser, type CountsMatrix } from './counts';
import { SheetParser, type SampleSheet } from './sample-sheet';
import { pairCounts } from './counts-pairing';
import { InputFailure, abortError, formatBinaryBytes, isAbortError, reject } from './failure';
import type { SourceInfo } from './format-info';
import { assignRoles, type ReadFile } from './formats';
import { checkTransferable, mergeParts } from './merge';
import { RecordReader } from './records';
import { fail, type ParseResult } from './result';
import { sniff, type Sniffed } from './sniff';
import { DEFAULT_MEMORY_BUDGET, type InputFile, type LoadOptions } from './source';
import type { EffectPart, ParseContext, RecordSink } from './table';
import type { EffectTensor } from './tensor';
import { readText } from './text-stream';

export type { InputFile, LoadOptions, LoadProgress } from './source';
export { selectVariableGenes, type SelectGenesOptions } from './select';

export interface LoadedDataset {
  tensor: EffectTensor;
  sources: SourceInfo[];
  /** What the loader decided on the user's behalf (averaging, imputation, dropped genes...), one sentence each. */
  notes: string[];
}

/** gzip text is assumed to expand about four-fold when the budget is checked before reading. */
const GZIP_EXPANSION = 4;
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
        ? `${f.name}: ${formatBinaryBytes(f.size)} gzip, about ${formatBinaryBytes(estimates[i])} of text`
        : `${f.name}: ${formatBinaryBytes(f.size)}`,
    )
    .join('; ');
  reject({
    file: files[largest].name,
    expected: `input that fits the memory budget of ${formatBinaryBytes(budget)}`,
    found: `about ${formatBinaryBytes(total)} of text (${detail}); nothing was read`,
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
    const read: ReadFile = (parser, stage) => parseFile(s, parser, options, stage);
    if (role === 'counts') {
      matrices.push(await parseFile(s, new CountsParser(ctx), options));
      continue;
    }
    if (role === 'sheet') {
      sheets.push(await parseFile(s, new SheetParser(ctx), options));
      continue;
    }
    const part = await role.parse(ctx, read);
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
