/**
 * A large synthetic wide effects table for the parse benchmarks and the large-file end-to-end test:
 * deterministic (seeded), written line by line so that the generator itself stays small in memory.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { createRng } from '../core/random';

export interface WideTableOptions {
  /** Target size of the text in megabytes (10^6 bytes); the result lands within a few percent. */
  mb: number;
  /** Gene columns after the two label columns. */
  genes: number;
  /** Compress with gzip (level 6) while writing. */
  gzip?: boolean;
}

/** The shape of the table that `writeWideTable` writes for the same options, known before writing. */
export interface WideTablePlan {
  /** Data lines (the header excluded). */
  rows: number;
  /** Lines with a distinct (context, perturbation) pair; the rest repeat one of them (replicates). */
  uniqueRows: number;
  contexts: number;
  perturbations: number;
  genes: number;
}

/** Contexts the rows cycle through (cell1..cell8). */
const CONTEXTS = 8;
/** Average characters of one value and its separator ("-1.2345," or "0.1234,"). */
const BYTES_PER_VALUE = 7.5;
/** Share of rows with a pair of their own; the remaining 5% are replicates to average. */
const UNIQUE_SHARE = 0.95;

/** Rows, pairs and the tensor shape (contexts x perturbations x genes) for the given options. */
export function planWideTable(options: WideTableOptions): WideTablePlan {
  const { mb, genes } = options;
  if (!(mb > 0) || !(genes > 0) || !Number.isInteger(genes)) {
    throw new Error('mb must be positive and genes a positive integer');
  }
  const rows = Math.max(16, Math.round((mb * 1e6) / (genes * BYTES_PER_VALUE)));
  const uniqueRows = Math.round(rows * UNIQUE_SHARE);
  return {
    rows,
    uniqueRows,
    contexts: Math.min(CONTEXTS, uniqueRows),
    perturbations: Math.ceil(uniqueRows / CONTEXTS),
    genes,
  };
}

/**
 * Writes the table to `path`: header "context,perturbation,GENE1..GENEG", then row i of the unique rows is
 * context cell(i mod 8 + 1) and perturbation pert(floor(i / 8) + 1); the last 5% repeat random earlier
 * rows. Values are N(0, 1.5^2) with 4 decimals from seed 42. Returns the plan and the bytes of text
 * written (before any gzip).
 */
export async function writeWideTable(
  path: string,
  options: WideTableOptions,
): Promise<WideTablePlan & { textBytes: number }> {
  const plan = planWideTable(options);
  const rng = createRng(42);
  const G = plan.genes;
  const out = createWriteStream(path);
  const sink = options.gzip ? createGzip({ level: 6 }) : out;
  if (options.gzip) sink.pipe(out);
  const write = async (text: string): Promise<void> => {
    if (!sink.write(text)) await once(sink, 'drain');
  };
  const header =
    ['context', 'perturbation', ...Array.from({ length: G }, (_, g) => `GENE${g + 1}`)].join(',') + '\n';
  let textBytes = header.length;
  await write(header);
  for (let r = 0; r < plan.rows; r++) {
    const i = r < plan.uniqueRows ? r : rng.int(plan.uniqueRows);
    const parts = new Array<string>(G + 2);
    parts[0] = `cell${(i % CONTEXTS) + 1}`;
    parts[1] = `pert${Math.floor(i / CONTEXTS) + 1}`;
    for (let g = 0; g < G; g++) parts[g + 2] = (rng.normal() * 1.5).toFixed(4);
    const line = parts.join(',') + '\n';
    textBytes += line.length;
    await write(line);
  }
  sink.end();
  await once(out, 'finish');
  return { ...plan, textBytes };
}
