import type { Method, MetricValues } from '../../core/eval/types';
import { METHODS, METRICS } from '../../core/eval/types';
import { formatNumber } from '../lib/format';
import { LOWER_IS_BETTER, METHOD_HELP, METHOD_LABELS, METRIC_HELP, METRIC_LABELS } from '../lib/labels';
import { bestPerMetric } from '../lib/results';

interface Props {
  metrics: Record<Method, MetricValues>;
  query: number;
  /**
   * On a simulated screen: the noise-free effects scored like a method (the noise ceiling), a row of its
   * own, never highlighted as best and never clipped.
   */
  ceiling?: MetricValues;
}

const CEILING_HELP =
  "The simulator's noise-free effects scored against the noisy observations on the same held-out pairs: " +
  'about the best any method can reach through the measurement noise. An estimate (log fold changes of ' +
  'sampled counts are biased), so a method may sit slightly above it.';

/** One row per method, one column per metric, the best value of each column highlighted. */
export function MetricsTable({ metrics, query, ceiling }: Props) {
  const best = bestPerMetric(metrics);
  return (
    <div className="table-scroll" tabIndex={0} aria-label="Metrics table, scrolls sideways on small screens">
      <table className="metrics" data-testid="metrics-table">
        <caption>
          Accuracy on {query} held-out perturbations, averaged per pair. Best in each column is{' '}
          <span className="best-sample">highlighted ★</span>; lower is better for MSE and MAE, higher for the
          rest.
        </caption>
        <thead>
          <tr>
            <th scope="col">Method</th>
            {METRICS.map((metric) => (
              <th key={metric} scope="col" title={METRIC_HELP[metric]}>
                {METRIC_LABELS[metric]}
                <span
                  className="direction"
                  aria-label={LOWER_IS_BETTER.has(metric) ? 'lower is better' : 'higher is better'}
                >
                  {LOWER_IS_BETTER.has(metric) ? ' ↓' : ' ↑'}
                </span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {METHODS.map((method) => (
            <tr key={method} data-method={method} className={method === 'c3tl' ? 'ours' : undefined}>
              <th scope="row" title={METHOD_HELP[method]}>
                {METHOD_LABELS[method]}
              </th>
              {METRICS.map((metric) => {
                const value = metrics[method][metric];
                const isBest = best[metric] === method;
                return (
                  <td
                    key={metric}
                    data-metric={metric}
                    data-value={String(value)}
                    className={isBest ? 'best' : undefined}
                    title={isBest ? 'best in this column' : undefined}
                  >
                    {Number.isNaN(value) ? (
                      <span aria-label="undefined" title="undefined for this data (see the warning above)">
                        —
                      </span>
                    ) : (
                      formatNumber(value)
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
          {ceiling && (
            <tr data-method="noise_ceiling" className="ceiling">
              <th scope="row" title={CEILING_HELP}>
                noise ceiling (truth)
              </th>
              {METRICS.map((metric) => (
                <td key={metric} data-metric={metric} data-value={String(ceiling[metric])}>
                  {Number.isNaN(ceiling[metric]) ? '—' : formatNumber(ceiling[metric])}
                </td>
              ))}
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
