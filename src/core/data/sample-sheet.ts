/** The sample sheet of a bulk counts matrix: each sample's context, perturbation and control flag. */
import { quoted, reject } from './failure';
import {
  CONTEXT_ALIASES,
  CONTROL_FLAG_ALIASES,
  CONTROL_NAMES,
  DOSE_ALIASES,
  PERTURBATION_ALIASES,
  SAMPLE_ALIASES,
  TIME_ALIASES,
  findColumn,
} from './labels';
import type { Fields } from './records';
import {
  checkWidth,
  headerNames,
  isComment,
  labelAt,
  requireHeader,
  requireRows,
  type ParseContext,
  type RecordSink,
} from './table';

const TRUE_WORDS: ReadonlySet<string> = new Set(['true', '1', 'yes', 't', 'y']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', '0', 'no', 'f', 'n']);

/** True when a header has sample, context and perturbation columns. */
export function isSampleSheetHeader(names: readonly string[]): boolean {
  return (
    findColumn(names, SAMPLE_ALIASES) >= 0 &&
    findColumn(names, CONTEXT_ALIASES) >= 0 &&
    findColumn(names, PERTURBATION_ALIASES) >= 0
  );
}

export interface SheetRow {
  sample: string;
  line: number;
  context: string;
  /** Empty for controls. */
  perturbation: string;
  control: boolean;
}

export interface SampleSheet {
  file: string;
  rows: SheetRow[];
  sampleColumn: number;
  contextColumn: number;
}

export class SheetParser implements RecordSink<SampleSheet> {
  private started = false;
  private headerLine = 0;
  private width = 0;
  private cols = { sample: -1, context: -1, perturbation: -1, control: -1, dose: -1, time: -1 };
  private readonly rows: SheetRow[] = [];
  private readonly lineOf = new Map<string, number>();

  constructor(private readonly ctx: ParseContext) {}

  record(f: Fields): void {
    if (!this.started) {
      if (isComment(f)) return;
      const names = headerNames(f);
      this.cols = {
        sample: findColumn(names, SAMPLE_ALIASES),
        context: findColumn(names, CONTEXT_ALIASES),
        perturbation: findColumn(names, PERTURBATION_ALIASES),
        control: findColumn(names, CONTROL_FLAG_ALIASES),
        dose: findColumn(names, DOSE_ALIASES),
        time: findColumn(names, TIME_ALIASES),
      };
      this.headerLine = f.line;
      this.width = names.length;
      this.started = true;
      return;
    }
    const ctx = this.ctx;
    const cols = this.cols;
    checkWidth(ctx, f, this.width, this.headerLine);
    const sample = labelAt(ctx, f, cols.sample, 'sample');
    const first = this.lineOf.get(sample);
    if (first !== undefined) {
      reject({
        file: ctx.file,
        line: f.line,
        column: cols.sample + 1,
        expected: 'each sample once in the sample sheet',
        found: `${quoted(sample)} again (already on line ${first})`,
      });
    }
    this.lineOf.set(sample, f.line);
    const context = labelAt(ctx, f, cols.context, 'context');
    let perturbation = f.text(cols.perturbation);
    let flag: boolean | undefined;
    if (cols.control >= 0) {
      const word = f.text(cols.control).toLowerCase();
      if (TRUE_WORDS.has(word)) flag = true;
      else if (FALSE_WORDS.has(word)) flag = false;
      else if (word !== '') {
        reject({
          file: ctx.file,
          line: f.line,
          column: cols.control + 1,
          expected: 'true/false, 1/0 or yes/no in the control column',
          found: quoted(f.text(cols.control)),
        });
      }
    }
    const control = flag ?? CONTROL_NAMES.has(perturbation.toLowerCase());
    if (!control) {
      perturbation = labelAt(ctx, f, cols.perturbation, 'perturbation');
      if (ctx.keepDoseTime && (cols.dose >= 0 || cols.time >= 0)) {
        const parts = [perturbation];
        if (cols.dose >= 0) parts.push(f.text(cols.dose));
        if (cols.time >= 0) parts.push(f.text(cols.time));
        perturbation = parts.join('@');
      }
    }
    this.rows.push({ sample, line: f.line, context, perturbation: control ? '' : perturbation, control });
  }

  finish(): SampleSheet {
    requireHeader(this.ctx, this.started);
    requireRows(this.ctx, this.rows.length, this.headerLine);
    return {
      file: this.ctx.file,
      rows: this.rows,
      sampleColumn: this.cols.sample,
      contextColumn: this.cols.context,
    };
  }
}
