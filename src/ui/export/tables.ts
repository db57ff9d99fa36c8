/** The exported tables, as text: predictions (wide) and the metrics table, through the shared writers. */
import type { Delimiter, EffectRow } from '../../core/data/write';
import { formatEffectRows, formatFieldNumber, quoteField } from '../../core/data/write';
import { METHODS } from '../../core/eval/methods';
import { METRICS } from '../../core/eval/metric-info';
import type { EvaluationView, Method, PredictionView } from '../../worker/api-types';
import { fileStem } from './download';

export type ResultView = EvaluationView | PredictionView;

/** Significant digits of the metrics CSV: enough to compare runs, which the record does in full. */
const METRIC_DIGITS = 10;

const isEvaluation = (view: ResultView): view is EvaluationView => 'queryPerturbations' in view;

/** Methods whose predictions the view holds, in the order of METHODS (C3TL first). */
export function exportableMethods(view: ResultView): Method[] {
  if (!isEvaluation(view)) return ['c3tl'];
  return METHODS.filter((method) => view.predictions[method] !== undefined);
}

/**
 * One row per held-out (evaluate) or predicted (predict) perturbation of the target context, one value per
 * gene: the method's Q*G predictions, row-major by perturbation.
 */
export function predictionRows(view: ResultView, method: Method): EffectRow[] {
  const perturbations = isEvaluation(view) ? view.queryPerturbations : view.perturbations;
  const values = isEvaluation(view)
    ? view.predictions[method]
    : method === 'c3tl'
      ? view.predictions
      : undefined;
  if (!values) throw new Error(`These results hold no predictions of ${method}.`);
  const G = view.genes.length;
  if (values.length !== perturbations.length * G) {
    throw new RangeError(`${values.length} predicted values for ${perturbations.length} pairs x ${G} genes`);
  }
  return perturbations.map((perturbation, q) => ({
    context: view.context,
    perturbation,
    values: values.subarray(q * G, (q + 1) * G),
  }));
}

/** Wide table (context, perturbation, one column per gene) of one method's predictions, CSV or TSV. */
export function predictionsTable(view: ResultView, method: Method, delimiter: Delimiter): string {
  return formatEffectRows(predictionRows(view, method), view.genes, { delimiter });
}

/** The metrics table as CSV: one row per method, one column per metric, with the target and split sizes. */
export function metricsTable(
  view: Pick<EvaluationView, 'context' | 'support' | 'query' | 'metrics'>,
): string {
  const header = ['context', 'support', 'query', 'method', ...METRICS];
  const lines = [header.join(',')];
  for (const method of METHODS) {
    const values = METRICS.map((metric) => formatFieldNumber(view.metrics[method][metric], METRIC_DIGITS));
    lines.push(
      [quoteField(view.context), String(view.support), String(view.query), method, ...values].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** "c3tl-<what>-<context>[-<method>].<ext>", safe on every file system. */
export function exportFileName(what: string, context: string, ext: string, method?: Method): string {
  return `c3tl-${what}-${fileStem(context)}${method ? `-${method}` : ''}.${ext}`;
}
