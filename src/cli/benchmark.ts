/**
 * The `benchmark` command: argument parsing, data loading and output around runBenchmark (core/eval). Progress
 * goes to stderr, the report to stdout (a table per dataset x support, or one JSON object with --json).
 */
import { loadDataset } from '../core/data/load';
import { restrictToContexts } from '../core/data/select';
import {
  FAST_BENCHMARK,
  FULL_BENCHMARK,
  runBenchmark,
  type BenchmarkCell,
  type BenchmarkDataset,
  type BenchmarkReport,
  type TruthSummary,
} from '../core/eval/benchmark';
import type { ModelPreset } from '../core/eval/types';
import { checkSwitches, RunOptionError } from '../core/eval/switches';
import { METHODS, OTHER_METHODS, REFERENCE_METHOD } from '../core/eval/methods';
import { METRICS, type Metric } from '../core/eval/metric-info';
import { SIM_KINDS, simulatorOptionsForToken } from '../core/simulate/kinds';
import { simulate } from '../core/simulate/simulator';
import { useBackend } from './backend';
import { UsageError, openInputFile } from './node-io';

export const BENCHMARK_USAGE = `  benchmark --data F [--data F2 ...] [--seeds 1,2,3] [--support 0.05,0.1,0.3] [--target NAME|all]
           [--fast] [--json] [--preset small|medium|large] [--genes N] [--max-epochs N]
           [--switches name=true,name=false] [--backend cpu|wasm|webgpu]
      Leave-one-context-out evaluation of every method for each dataset, support fraction and seed: per
      method the mean and sd over (target, seed) rows, and C3TL minus each other method paired by row with
      a 95% t-interval. A dataset of several files is one comma-separated --data; sim:<kind> (${SIM_KINDS.join(', ')})
      simulates the default screen with seed = the benchmark seed, a new world per seed. --fast: ${FAST_BENCHMARK.geneLimit}
      genes and at most ${FAST_BENCHMARK.maxEpochs} epochs. --switches sets model switches (ablations).
      --contexts A,B,... keeps only these contexts of every file dataset (subsets of a screen).`;

/** The flags this command reads, as node:util parseArgs gives them. */
export interface BenchmarkFlags {
  data?: string[];
  seeds?: string;
  support?: string;
  target?: string;
  fast?: boolean;
  json?: boolean;
  preset?: string;
  genes?: string;
  'max-epochs'?: string;
  switches?: string;
  backend?: string;
  contexts?: string;
}

function numberList(raw: string, flag: string, what: string, valid: (v: number) => boolean): number[] {
  const items = raw.split(',').map((s) => s.trim());
  const values = items.map(Number);
  if (items.some((s) => s === '') || !values.every(valid) || new Set(values).size !== values.length) {
    throw new UsageError(`--${flag} expects a comma-separated list of distinct ${what}, got "${raw}".`);
  }
  return values;
}

function count(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new UsageError(`--${flag} expects an integer >= 0, got "${raw}".`);
  }
  return value;
}

function parseSwitches(raw: string | undefined): Record<string, boolean> | undefined {
  if (raw === undefined) return undefined;
  const out: Record<string, boolean> = {};
  for (const item of raw.split(',')) {
    const match = /^\s*([A-Za-z][\w-]*)=(true|false|on|off)\s*$/.exec(item);
    if (!match) throw new UsageError(`--switches expects name=true or name=false items, got "${item}".`);
    out[match[1]] = match[2] === 'true' || match[2] === 'on';
  }
  try {
    checkSwitches(out);
  } catch (error) {
    if (error instanceof RunOptionError) throw new UsageError(error.message);
    throw error;
  }
  return out;
}

/** One --data value: a sim:<kind> token, or a comma-separated list of files read as one dataset. */
async function datasetOf(spec: string, contexts: string[] | undefined): Promise<BenchmarkDataset> {
  if (spec.startsWith('sim:')) {
    const options = simulatorOptionsForToken(spec);
    if (!options) {
      throw new UsageError(
        `Unknown simulator kind "${spec}"; the kinds are: ${SIM_KINDS.map((k) => `sim:${k}`).join(', ')}.`,
      );
    }
    return {
      name: spec,
      perSeed: true,
      draw: (seed) => {
        const { tensor, truth } = simulate({ ...options, seed, counts: false });
        return { tensor, truth };
      },
    };
  }
  const paths = spec.split(',').map((p) => p.trim());
  if (paths.some((p) => p === '' || p.startsWith('sim:'))) {
    throw new UsageError(
      `--data "${spec}": a dataset is one sim:<kind> token or a comma-separated list of files.`,
    );
  }
  // Loaded before any training, so that a bad file fails at once rather than hours in.
  const result = await loadDataset(await Promise.all(paths.map(openInputFile)));
  if (!result.ok) throw new UsageError(result.error.message);
  for (const note of result.data.notes) process.stderr.write(`note: ${spec}: ${note}\n`);
  let tensor = result.data.tensor;
  let name = spec;
  if (contexts) {
    const missing = contexts.filter((c) => !tensor.contexts.includes(c));
    if (missing.length > 0) {
      throw new UsageError(
        `--contexts: ${spec} has no context ${missing.map((c) => `"${c}"`).join(', ')}; its contexts are: ${tensor.contexts.join(', ')}.`,
      );
    }
    tensor = restrictToContexts(tensor, contexts);
    name = `${spec} [${contexts.join(', ')}]`;
  }
  return { name, perSeed: false, draw: () => ({ tensor }) };
}

/** What the JSON numbers mean, stated in the report itself. */
const JSON_NOTES = [
  'methods: mean and sample sd over the (target, seed) rows of targetRows; null where undefined (one row).',
  `paired: ${REFERENCE_METHOD} minus the method per (target, seed) row, then the mean and its 95% Student t interval (n - 1 df); > 0 favours ${REFERENCE_METHOD} except for mse and mae.`,
  'truth (simulated data only): ceiling = the noise-free effects scored as a prediction of the observations (mean and sd over rows; an estimate, a method can score slightly above it); vsTruth = every method scored against the noise-free effects instead of the observations, with the same summaries and paired differences; per row in targetRows[].truth.',
  'targetRows[].train: how C3TL trained on that row: epochs and best epoch of the fixed form, whether its perturbation means were denoised as sparse (sparseBase), the genes held at one value in the target (heldGenes), and epochs and best epoch of the transfer path with the multiple kept (transfer.scale; 0 = path off; transfer.bestEpoch 0 = its starting rule kept) the contexts and pairs it was judged on (transfer.judgedOn) whether its reference mix read sparse-denoised effects (transfer.sparseMix) and whether C3TL was the fixed form without its support slope plus the transfer (transfer.withoutSlope).',
  'perSeed true: each seed simulated a new world (default size, simulator seed = benchmark seed); false: each seed is a new split and model initialisation of the same data.',
];

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');
const signed = (v: number, digits = 4) =>
  Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(digits)}` : 'n/a';
const interval = (d: { mean: number; lo: number; hi: number }, digits = 4) =>
  `${signed(d.mean, digits)} [${signed(d.lo, digits)}, ${signed(d.hi, digits)}]`;

/** Simulated data: the noise ceiling, then centred Pearson of every method against the noise-free effects. */
function formatTruth(truth: TruthSummary): string[] {
  const c = truth.ceiling;
  const lines = [
    `noise ceiling (the noise-free effects scored against the observations): centred Pearson ${f4(c.mean.pearson_centered)} ± ${f4(c.sd.pearson_centered)}`,
    `${'vs the truth'.padEnd(14)}${'centred Pearson'.padStart(20)}    C3TL − method [95% t-interval]`,
  ];
  for (const method of METHODS) {
    const m = truth.vsTruth.methods[method];
    const pc = `${f4(m.mean.pearson_centered)} ± ${f4(m.sd.pearson_centered)}`;
    const paired = method === REFERENCE_METHOD ? '' : interval(truth.vsTruth.paired[method].pearson_centered);
    lines.push(`${method.padEnd(14)}${pc.padStart(20)}    ${paired}`);
  }
  return lines;
}

function formatCell(cell: BenchmarkCell): string {
  const { contexts, perturbations, genes } = cell.dataset;
  const worlds = cell.perSeed
    ? 'each seed simulates a new world (default size, simulator seed = benchmark seed)'
    : 'each seed is a new split and model initialisation of the same data';
  const lines = [
    `${cell.name}  support ${cell.support}  seeds ${cell.seeds.join(',')}  ${cell.rows} (target, seed) rows`,
    `  ${contexts} contexts x ${perturbations} perturbations x ${genes} genes; ${worlds}`,
    '',
    `${'method'.padEnd(14)}${'centred Pearson'.padStart(20)}    C3TL − method [95% t-interval]`,
  ];
  for (const method of METHODS) {
    const m = cell.methods[method];
    const pc = `${f4(m.mean.pearson_centered)} ± ${f4(m.sd.pearson_centered)}`;
    const paired = method === REFERENCE_METHOD ? '' : interval(cell.paired[method].pearson_centered);
    lines.push(`${method.padEnd(14)}${pc.padStart(20)}    ${paired}`);
  }
  const others = METRICS.filter((m): m is Exclude<Metric, 'pearson_centered'> => m !== 'pearson_centered');
  lines.push(
    '',
    `other metrics, mean ± sd`,
    `${'method'.padEnd(14)}${others.map((m) => m.padStart(20)).join('')}`,
  );
  for (const method of METHODS) {
    const m = cell.methods[method];
    lines.push(
      `${method.padEnd(14)}${others.map((k) => `${f4(m.mean[k])} ± ${f4(m.sd[k])}`.padStart(20)).join('')}`,
    );
  }
  lines.push(
    '',
    'other metrics, C3TL − method [95% t-interval] (> 0 favours C3TL, except mse and mae: < 0)',
    `${'method'.padEnd(14)}${others.map((m) => m.padStart(26)).join('')}`,
  );
  for (const method of OTHER_METHODS) {
    lines.push(
      `${method.padEnd(14)}${others.map((k) => interval(cell.paired[method][k], 3).padStart(26)).join('')}`,
    );
  }
  if (cell.truth) lines.push('', ...formatTruth(cell.truth));
  for (const s of cell.skipped) lines.push(`skipped ${s.context} (seed ${s.seed}): ${s.reason}`);
  return lines.join('\n');
}

/** The human report: what ran, then one block per dataset x support. */
export function formatBenchmark(report: BenchmarkReport, preset: string): string {
  const o = report.options;
  const header =
    `benchmark preset ${preset}: ${o.geneLimit} genes, ${o.maxEpochs === undefined ? "the model's default epoch cap" : `at most ${o.maxEpochs} epochs`}, model ${o.preset}` +
    `${o.switches ? `, switches ${JSON.stringify(o.switches)}` : ''}; target ${o.target}; ${Math.round(o.level * 100)}% t-intervals over (target, seed) rows`;
  return `${[header, ...report.datasets.map(formatCell)].join('\n\n')}\n`;
}

export async function commandBenchmark(flags: BenchmarkFlags): Promise<void> {
  const specs = flags.data ?? [];
  if (specs.length === 0) throw new UsageError(`--data is required.\n\n${BENCHMARK_USAGE}`);
  const seeds = numberList(
    flags.seeds ?? '1,2,3',
    'seeds',
    'integers >= 0',
    (v) => Number.isInteger(v) && v >= 0,
  );
  const supports = numberList(
    flags.support ?? '0.05,0.1,0.3',
    'support',
    'fractions between 0 and 1',
    (v) => v > 0 && v < 1,
  );
  const preset = flags.preset ?? 'small';
  if (preset !== 'small' && preset !== 'medium' && preset !== 'large') {
    throw new UsageError(`--preset expects small, medium or large, got "${preset}".`);
  }
  const base: { geneLimit: number; maxEpochs?: number } = flags.fast
    ? { ...FAST_BENCHMARK }
    : { ...FULL_BENCHMARK };
  const genes = count(flags.genes, 'genes');
  const maxEpochs = count(flags['max-epochs'], 'max-epochs');
  const overridden = [
    genes !== undefined && `--genes ${genes}`,
    maxEpochs !== undefined && `--max-epochs ${maxEpochs}`,
  ].filter(Boolean);
  const presetName = `${flags.fast ? 'fast' : 'full'}${overridden.length ? ` (overridden: ${overridden.join(', ')})` : ''}`;
  const switches = parseSwitches(flags.switches);
  const datasets: BenchmarkDataset[] = [];
  const contexts = flags.contexts?.split(',').map((c) => c.trim());
  if (contexts && (contexts.length < 2 || contexts.some((c) => c === ''))) {
    throw new UsageError(`--contexts expects at least two context names, got "${flags.contexts}".`);
  }
  for (const spec of specs) datasets.push(await datasetOf(spec, contexts));
  const backend = await useBackend(flags.backend ?? 'cpu');
  process.stderr.write(`benchmark preset ${presetName} on ${backend.backend}\n`);
  const started = performance.now();
  const report = await runBenchmark(
    datasets,
    {
      seeds,
      supports,
      target: flags.target ?? 'all',
      preset: preset as ModelPreset,
      geneLimit: genes ?? base.geneLimit,
      ...((maxEpochs ?? base.maxEpochs) !== undefined && { maxEpochs: maxEpochs ?? base.maxEpochs }),
      ...(switches && { switches }),
    },
    {
      onRun: (at) => process.stderr.write(`${at.dataset}: seed ${at.seed}, support ${at.support}\n`),
      onTarget: (at, t) =>
        process.stderr.write(
          `  ${at.dataset} seed ${at.seed} support ${at.support} target ${t.context}: ${REFERENCE_METHOD} centred Pearson ` +
            `${f4(t.metrics[REFERENCE_METHOD].pearson_centered)} (${t.train.epochs} epochs${t.train.sparseBase ? ' on sparse means' : ''}, ${t.train.seconds.toFixed(1)} s` +
            `${t.train.transfer ? `; transfer best epoch ${t.train.transfer.bestEpoch}, multiple ${t.train.transfer.scale}${t.train.transfer.sparseMix ? ', sparse mix' : ''}${t.train.transfer.withoutSlope ? ', no slope' : ''}` : ''})\n`,
        ),
    },
  );
  process.stderr.write(`Benchmark done in ${((performance.now() - started) / 1000).toFixed(1)} s.\n`);
  const presetInfo = {
    name: presetName,
    geneLimit: report.options.geneLimit,
    maxEpochs: report.options.maxEpochs ?? null,
  };
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ preset: presetInfo, backend: backend.backend, notes: JSON_NOTES, ...report })}\n`
      : formatBenchmark(report, presetName),
  );
}
