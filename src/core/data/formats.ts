/**
 * The effect formats a dropped text file can be in, each with how it is recognised and parsed; the loader
 * (load.ts) tries them in this order. Bulk counts and their sample sheet are recognised here too but parsed
 * as a pair (counts-pairing.ts). To add a format: its parser, an entry in TABLE_FORMATS and one in
 * FORMAT_INFO (format-info.ts).
 */
import { isSampleSheetHeader } from './sample-sheet';
import type { SourceFormat } from './format-info';
import { GctParser } from './gct';
import { CONTEXT_ALIASES, PERTURBATION_ALIASES, findColumn } from './labels';
import { LongParser, isLongHeader } from './long';
import type { Sniffed } from './sniff';
import type { EffectPart, ParseContext, RecordSink } from './table';
import { WideLabelScan, WideParser } from './wide';

/** Streams the file through a record parser; 'scanning' marks a first pass in progress events. */
export type ReadFile = <T>(parser: RecordSink<T>, stage?: 'scanning' | 'reading') => Promise<T>;

export interface TableFormat {
  format: SourceFormat;
  /** Whether a file with this first line (GCT) or header is in this format. */
  sniff(s: Sniffed): boolean;
  parse(ctx: ParseContext, read: ReadFile): Promise<EffectPart>;
}

const hasLabelColumns = (header: readonly string[]): boolean =>
  findColumn(header, CONTEXT_ALIASES) >= 0 && findColumn(header, PERTURBATION_ALIASES) >= 0;

export const TABLE_FORMATS: readonly TableFormat[] = [
  { format: 'gct', sniff: (s) => s.gct, parse: (ctx, read) => read(new GctParser(ctx)) },
  { format: 'long', sniff: (s) => isLongHeader(s.header), parse: (ctx, read) => read(new LongParser(ctx)) },
  {
    format: 'wide',
    sniff: (s) => hasLabelColumns(s.header),
    parse: async (ctx, read) => read(new WideParser(ctx, await read(new WideLabelScan(ctx), 'scanning'))),
  },
];

export type Role = TableFormat | 'counts' | 'sheet';

/**
 * What each file is. A table with sample, context and perturbation columns is a sample sheet and a table
 * without label columns a counts matrix, but only when both kinds were dropped together; otherwise each is
 * read as a wide table (a sheet-like table is one with a sample column; the other is rejected with a
 * precise message).
 */
export function assignRoles(sniffed: readonly Sniffed[]): Role[] {
  const wide = TABLE_FORMATS.find((f) => f.format === 'wide')!;
  const initial = sniffed.map((s): TableFormat | 'sheet?' | 'counts?' => {
    const format = TABLE_FORMATS.find((f) => f.sniff(s));
    if (format === wide && isSampleSheetHeader(s.header)) return 'sheet?';
    return format ?? 'counts?';
  });
  const pairing = initial.includes('sheet?') && initial.includes('counts?');
  return initial.map((r) =>
    r === 'sheet?' ? (pairing ? 'sheet' : wide) : r === 'counts?' ? (pairing ? 'counts' : wide) : r,
  );
}
