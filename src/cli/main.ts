/**
 * C3TL command line: `npm run -s c3tl -- <simulate|inspect|convert|evaluate|predict|benchmark> [options]`.
 * Thin wrappers over src/core. Bad input prints one message on stderr and exits with code 2.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { loadDataset, type LoadedDataset } from '../core/data/load';
import { tensorSummary } from '../core/data/tensor';
import {
  formatCountsMatrix,
  formatEffectRows,
  formatSampleSheet,
  formatWideTable,
  type Delimiter,
} from '../core/data/write';
import { evaluate, predictTarget, predictWithModelFile } from '../core/eval/protocol';
import type { EvaluationReport } from '../core/eval/results';
import { decodeModelFile } from '../core/model/model-file-decode';
import { METHODS, type Method } from '../core/eval/methods';
import { METRICS } from '../core/eval/metric-info';
import { type RunOptions } from '../core/eval/types';
import { SIM_KINDS, simulatorOptionsForKind } from '../core/simulate/kinds';
import { simulate } from '../core/simulate/simulator';
import { useBackend } from './backend';
import { commandBenchmark } from './benchmark';
import { CLI_OPTIONS, USAGE } from './main-usage';
import { UsageError, openInputFile } from './node-io';
// The single-cell path loads h5wasm (HDF5 in WebAssembly), so it is imported only when used.
import { isSingleCellPath } from './single-cell-path';

type Flags = ReturnType<typeof parseArgs<{ options: typeof CLI_OPTIONS; allowPositionals: true }>>['values'];

function integer(flags: Flags, name: keyof Flags, fallback: number, min = 0): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new UsageError(`--${name} expects an integer >= ${min}, got "${String(raw)}".`);
  }
  return value;
}

function required(flags: Flags, name: 'out' | 'target'): string {
  const value = flags[name];
  if (!value) throw new UsageError(`--${name} is required.\n\n${USAGE}`);
  return value;
}

function delimiterFor(path: string): Delimiter {
  return /\.tsv(\.gz)?$/i.test(path) ? '\t' : ',';
}

function writeText(path: string, text: string): void {
  writeFileSync(path, path.endsWith('.gz') ? gzipSync(text) : text);
}

async function loadData(flags: Flags): Promise<LoadedDataset> {
  const paths = flags.data ?? [];
  if (paths.length === 0) throw new UsageError(`--data FILE is required.\n\n${USAGE}`);
  if (paths.some(isSingleCellPath)) {
    if (!paths.every(isSingleCellPath))
      throw new UsageError('Single-cell inputs (.h5ad, 10x folders) cannot be mixed with bulk tables.');
    return (await import('./single-cell')).loadSingleCell(paths, flags);
  }
  const files = await Promise.all(paths.map(openInputFile));
  const result = await loadDataset(files);
  if (!result.ok) throw new UsageError(result.error.message);
  for (const note of result.data.notes) process.stderr.write(`note: ${note}\n`);
  return result.data;
}

function supportFraction(flags: Flags): number {
  const fraction = flags.support === undefined ? 0.1 : Number(flags.support);
  if (!(fraction > 0 && fraction < 1)) {
    throw new UsageError(`--support expects a fraction between 0 and 1, got "${flags.support}".`);
  }
  return fraction;
}

function runOptions(flags: Flags): RunOptions {
  const preset = flags.preset ?? 'small';
  if (preset !== 'small' && preset !== 'medium' && preset !== 'large') {
    throw new UsageError(`--preset expects small, medium or large, got "${preset}".`);
  }
  const maxEpochs = flags['max-epochs'] === undefined ? undefined : integer(flags, 'max-epochs', 0);
  return {
    seed: integer(flags, 'seed', 1),
    preset,
    geneLimit: integer(flags, 'genes', 2000),
    ...(maxEpochs === undefined ? {} : { maxEpochs }),
  };
}

async function commandSimulate(flags: Flags): Promise<void> {
  const out = required(flags, 'out');
  const format = flags.format ?? 'effects';
  if (format === 'h5ad' || format === 'mtx') {
    const { simulateSingleCell } = await import('./single-cell');
    const message = await simulateSingleCell(
      format,
      out,
      {
        contexts: integer(flags, 'contexts', 6, 2),
        perturbations: integer(flags, 'perturbations', 50, 2),
        genes: integer(flags, 'genes', 1000, 2),
        seed: integer(flags, 'seed', 1),
        modulation: !flags['no-modulation'],
      },
      {
        cellsPerPair: integer(flags, 'cells-per-pair', 50, 1),
        umisPerCell: integer(flags, 'umis', 4000, 1),
        seed: integer(flags, 'seed', 1),
      },
    );
    process.stderr.write(`${message}\n`);
    return;
  }
  if (format !== 'effects' && format !== 'counts') {
    throw new UsageError(`--format expects effects, counts, h5ad or mtx, got "${format}".`);
  }
  const kind = flags.kind ?? (flags['no-modulation'] ? 'no-modulation' : 'default');
  const preset = simulatorOptionsForKind(kind);
  if (!preset) throw new UsageError(`--kind expects one of ${SIM_KINDS.join(', ')}, got "${kind}".`);
  if (flags['no-modulation'] && kind !== 'no-modulation') {
    throw new UsageError(`--no-modulation contradicts --kind ${kind}.`);
  }
  const data = simulate({
    ...preset,
    contexts: integer(flags, 'contexts', 6, 2),
    perturbations: integer(flags, 'perturbations', 300, 2),
    genes: integer(flags, 'genes', 1000, 2),
    seed: integer(flags, 'seed', 1),
    counts: format === 'counts',
  });
  const delimiter = delimiterFor(out);
  if (format === 'effects') {
    writeText(out, formatWideTable(data.tensor, { delimiter }));
    process.stderr.write(`Wrote ${out}\n`);
    return;
  }
  if (!data.counts) throw new Error('The simulator returned no counts.');
  const sheet = join(dirname(out), `${basename(out).replace(/(\.[^.]+)?(\.gz)?$/i, '')}.samples.csv`);
  writeText(out, formatCountsMatrix(data.counts, { delimiter }));
  writeText(sheet, formatSampleSheet(data.sampleSheet));
  process.stderr.write(`Wrote ${out} and ${sheet}\n`);
}

async function commandInspect(flags: Flags): Promise<void> {
  if ((flags.data ?? []).some(isSingleCellPath)) {
    await (await import('./single-cell')).inspectSingleCell(flags.data ?? [], flags, Boolean(flags.json));
    return;
  }
  const data = await loadData(flags);
  const summary = tensorSummary(data.tensor);
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ ...summary, contextNames: data.tensor.contexts, sources: data.sources, notes: data.notes })}\n`,
    );
    return;
  }
  process.stdout.write(
    [
      `contexts       ${summary.contexts}  (${data.tensor.contexts.join(', ')})`,
      `perturbations  ${summary.perturbations}`,
      `genes          ${summary.genes}`,
      `observed pairs ${summary.pairs} of ${summary.contexts * summary.perturbations}` +
        (summary.averagedPairs ? ` (${summary.averagedPairs} averaged from several rows)` : ''),
      ...data.tensor.contexts.map((c, i) => `  ${c}: ${summary.pairsPerContext[i]} pairs`),
    ].join('\n') + '\n',
  );
}

async function commandConvert(flags: Flags): Promise<void> {
  const out = required(flags, 'out');
  const data = await loadData(flags);
  const t = data.tensor;
  writeText(out, formatWideTable(t, { delimiter: delimiterFor(out), digits: 'float32' }));
  if (t.basal)
    process.stderr.write('note: basal (control) expression is not part of a wide effects table.\n');
  const pairs = tensorSummary(t).pairs;
  process.stderr.write(
    `Wrote ${pairs} (context, perturbation) pairs x ${t.genes.length} genes (${t.contexts.length} contexts) to ${out}\n`,
  );
}

/** A metric for the table: NaN (undefined on degenerate data, see the warnings) is written "undefined". */
function metricText(value: number): string {
  return Number.isNaN(value) ? 'undefined' : value.toFixed(4);
}

function formatReport(report: EvaluationReport): string {
  const width = 14;
  const header = ['method'.padEnd(width), ...METRICS.map((m) => m.padStart(18))].join('');
  const table = (metrics: EvaluationReport['mean']) =>
    METHODS.map((method) =>
      [method.padEnd(width), ...METRICS.map((m) => metricText(metrics[method][m]).padStart(18))].join(''),
    ).join('\n');
  const parts = report.targets.map(
    (t) => `target ${t.context} (support ${t.support}, query ${t.query})\n${header}\n${table(t.metrics)}`,
  );
  if (report.targets.length > 1)
    parts.push(`mean over ${report.targets.length} targets\n${header}\n${table(report.mean)}`);
  for (const s of report.skipped) parts.push(`skipped ${s.context}: ${s.reason}`);
  return parts.join('\n\n') + '\n';
}

async function commandEvaluate(flags: Flags): Promise<void> {
  const run = { ...runOptions(flags), supportFraction: supportFraction(flags) };
  const backend = await useBackend(flags.backend ?? 'cpu');
  const data = await loadData(flags);
  const saveModel = flags['save-model'];
  if (saveModel && (flags.target ?? 'all') === 'all') {
    throw new UsageError('--save-model needs one --target NAME (a model file holds one target).');
  }
  const started = performance.now();
  const report = await evaluate(
    data.tensor,
    flags.target ?? 'all',
    run,
    {
      onTarget: (t) => {
        process.stderr.write(
          `${t.context}: c3tl pearson_centered ${metricText(t.metrics.c3tl.pearson_centered)}, ` +
            `trained ${t.train.epochs} epochs (best ${t.train.bestEpoch}) in ${t.train.seconds.toFixed(1)} s\n`,
        );
        if (saveModel && t.modelFile !== undefined) {
          writeFileSync(saveModel, t.modelFile);
          process.stderr.write(`Wrote the model to ${saveModel}\n`);
        }
      },
    },
    { keepModelFile: Boolean(saveModel) },
  );
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `Evaluated ${report.targets.length} target(s) in ${seconds.toFixed(1)} s on ${backend.backend}` +
      `${backend.adapter ? ` (${backend.adapter})` : ''}.\n`,
  );
  for (const warning of report.warnings) process.stderr.write(`warning: ${warning}\n`);
  process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : formatReport(report));
}

async function commandPredict(flags: Flags): Promise<void> {
  const out = required(flags, 'out');
  const method = (flags.method ?? 'c3tl') as Method;
  if (!METHODS.includes(method)) throw new UsageError(`--method expects one of ${METHODS.join(', ')}.`);
  const modelPath = flags.model;
  const saveModel = flags['save-model'];
  if (modelPath && saveModel) throw new UsageError('--model and --save-model cannot be used together.');
  const target = modelPath ? flags.target : required(flags, 'target');
  const run = runOptions(flags);
  await useBackend(flags.backend ?? 'cpu');
  const data = await loadData(flags);
  let result: { context: string; perturbations: string[]; genes: string[]; values: Float32Array };
  if (modelPath) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(modelPath);
    } catch {
      throw new UsageError(`${modelPath}: no such file, or it cannot be read.`);
    }
    const decoded = decodeModelFile(bytes, basename(modelPath));
    if (!decoded.ok) throw new UsageError(decoded.error.message);
    const model = decoded.data;
    if (target !== undefined && target !== model.target) {
      throw new UsageError(`The model was trained for target "${model.target}", not "${target}".`);
    }
    const restored = await predictWithModelFile(data.tensor, model, {}, basename(modelPath));
    for (const note of [...decoded.notes, ...restored.notes]) process.stderr.write(`note: ${note}\n`);
    result =
      restored.mode === 'predict'
        ? { ...restored.prediction, values: restored.prediction.predictions[method] }
        : {
            ...restored.evaluation,
            perturbations: restored.evaluation.queryPerturbations,
            values: restored.evaluation.predictions[method],
          };
  } else {
    const name = target ?? '';
    const index = data.tensor.contexts.indexOf(name);
    if (index < 0) {
      throw new UsageError(
        `No context named "${name}"; the contexts are: ${data.tensor.contexts.join(', ')}.`,
      );
    }
    const predicted = await predictTarget(data.tensor, index, run, {}, { keepModelFile: Boolean(saveModel) });
    if (saveModel && predicted.modelFile !== undefined) {
      writeFileSync(saveModel, predicted.modelFile);
      process.stderr.write(`Wrote the model to ${saveModel}\n`);
    }
    result = { ...predicted, values: predicted.predictions[method] };
  }
  const G = result.genes.length;
  const rows = result.perturbations.map((perturbation, i) => ({
    context: result.context,
    perturbation,
    values: result.values.subarray(i * G, (i + 1) * G),
  }));
  writeText(out, formatEffectRows(rows, result.genes, { delimiter: delimiterFor(out) }));
  process.stderr.write(
    `Wrote ${rows.length} predicted effects (${method}) for ${result.context} to ${out}\n`,
  );
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs({ args: argv, options: CLI_OPTIONS, allowPositionals: true, strict: true });
  const [command] = parsed.positionals;
  const flags = parsed.values;
  if (flags.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || flags.help ? 0 : 2;
  }
  switch (command) {
    case 'simulate':
      await commandSimulate(flags);
      return 0;
    case 'inspect':
      await commandInspect(flags);
      return 0;
    case 'convert':
      await commandConvert(flags);
      return 0;
    case 'evaluate':
      await commandEvaluate(flags);
      return 0;
    case 'predict':
      await commandPredict(flags);
      return 0;
    case 'benchmark':
      await commandBenchmark(flags);
      return 0;
    default:
      throw new UsageError(`Unknown command "${command}".\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Input, usage and data problems all arrive here as one message: no stack trace for the user.
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
