import type { CountsMatrix } from './counts';
import type { SampleSheet, SheetRow } from './sample-sheet';
import { effectsFromCounts } from './counts';
import { listSome, quoted, reject } from './failure';
import type { SourceInfo } from './format-info';
import { type EffectPart } from './table';
import { plural } from '../text';

export interface Pairing {
  parts: EffectPart[];
  sources: SourceInfo[];
}

/** Joins sample sheets with counts matrices and computes effects per matrix. */
export function pairCounts(
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
