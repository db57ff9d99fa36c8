/** The c3tl command line's usage text and option table. */
import { SIM_KINDS, SIM_KIND_SUMMARY } from '../core/simulate/kinds';
import { BENCHMARK_USAGE } from './benchmark';

const KIND_LINES = SIM_KINDS.map((kind) => `        ${kind.padEnd(14)} ${SIM_KIND_SUMMARY[kind]}`).join('\n');

export const USAGE = `Usage: npm run -s c3tl -- <command> [options]

  simulate --out FILE [--contexts N] [--perturbations N] [--genes N] [--seed N]
           [--format effects|counts] [--kind NAME] [--no-modulation]
      Writes the causal simulator's data (FILE.gz is gzipped; .tsv is tab-separated).
      counts writes FILE plus FILE's sample sheet next to it (name.samples.csv).
      --kind picks how contexts differ (default: default; --no-modulation means --kind no-modulation):
${KIND_LINES}
  inspect  --data FILE [--data FILE ...] [--json]
      Contexts, perturbations, genes and observed pairs, or what is wrong with the input.
  convert  --data FILE [--data FILE ...] --out FILE
      Writes the dataset as the engine loaded it (files merged, replicates averaged, the missing-value
      rule applied) as a wide effects table, with the loader's notes on stderr. Values are written with
      enough digits to read back exactly (FILE.gz is gzipped; .tsv is tab-separated).
  evaluate --data FILE [--target NAME|all] [--support 0.1] [--seed N] [--json]
           [--preset small|medium|large] [--genes 2000] [--max-epochs N] [--backend cpu|wasm|webgpu]
           [--save-model FILE.c3tl.json]
      Leave-one-context-out evaluation of C3TL and the baselines on held-out pairs. Metrics that
      degenerate data leave undefined print as "undefined" (null in --json), with a warning.
      --save-model (one target only) writes the trained model file.
  predict  --data FILE --target NAME --out FILE [--method c3tl] [--seed N] [--preset ...] [--backend ...]
           [--save-model FILE.c3tl.json | --model FILE.c3tl.json]
      Predicted effects of every perturbation measured elsewhere but not in NAME, as a wide table.
      --model applies a saved model (browser or CLI) without training: the dataset must hold its genes,
      target and support; an evaluate-mode model predicts its held-out pairs.

  Single-cell inputs: --data FILE.h5ad or --data DIR (10x: matrix.mtx, barcodes.tsv, features.tsv, cells.csv)
      are pseudo-bulked: [--context-col NAME] [--perturbation-col NAME] [--control LABEL ...]
      [--min-cells 10] [--counts X|raw/X|layers/NAME]; missing flags are guessed from the column names.
  simulate --format h5ad --out FILE.h5ad | --format mtx --out DIR [--cells-per-pair 50] [--umis 4000]
      Single cells drawn from the simulator (single-cell formats default to 50 perturbations).

${BENCHMARK_USAGE}`;

/** The options every command accepts (node:util parseArgs); each command reads those it needs. */
export const CLI_OPTIONS = {
  out: { type: 'string' },
  data: { type: 'string', multiple: true },
  contexts: { type: 'string' },
  perturbations: { type: 'string' },
  genes: { type: 'string' },
  seed: { type: 'string' },
  format: { type: 'string' },
  kind: { type: 'string' },
  'no-modulation': { type: 'boolean' },
  json: { type: 'boolean' },
  target: { type: 'string' },
  support: { type: 'string' },
  preset: { type: 'string' },
  'max-epochs': { type: 'string' },
  backend: { type: 'string' },
  method: { type: 'string' },
  'save-model': { type: 'string' },
  model: { type: 'string' },
  seeds: { type: 'string' },
  fast: { type: 'boolean' },
  switches: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  'context-col': { type: 'string' },
  'perturbation-col': { type: 'string' },
  control: { type: 'string', multiple: true },
  'min-cells': { type: 'string' },
  counts: { type: 'string' },
  'cells-per-pair': { type: 'string' },
  umis: { type: 'string' },
} as const;
