import type { Method } from '../../core/eval/methods';
import type { MetricValues } from '../../core/eval/metric-info';
import { METHOD_INFO, METHODS } from '../../core/eval/methods';
import { METRIC_INFO, METRICS } from '../../core/eval/metric-info';
import { formatNumber } from '../lib/format';
import { bestPerMetric } from '../lib/results';

const LOWER_LABELS = METRICS.filter((m) => METRIC_INFO[m].direction === 'lower')
  .map((m) => METRIC_INFO[m].label)
  .join(' and ');

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
  "The simulator's noise-free effects scored against the noisy observations on the same held-out pairs, " +
  "with the context's shared offset (its control sample's noise, read on the support) added as any method " +
  'can: about the best any method can reach through the measurement noise. An estimate (log fold changes ' +
  'of sampled counts are biased), so a method may sit slightly above it.';

/** One row per method, one column per metric, the best value of each column highlighted. */
export function MetricsTable({ metrics, query, ceiling }: Props) {
  const best = bestPerMetric(metrics);
  return (
    <div className="table-scroll" tabIndex={0} aria-label="Metrics table, scrolls sideways on small screens">
      <table className="metrics" data-testid="metrics-table">
        <caption>
          Accuracy on {query} held-out perturbations, averaged per pair. Best in each column is{' '}
          <span className="best-sample">highlighted ★</span>; lower is better for {LOWER_LABELS}, higher for
          the rest.
        </caption>
        <MetricsHead />
        <tbody>
          {METHODS.map((method) => (
            <tr key={method} data-method={method} className={method === 'c3tl' ? 'ours' : undefined}>
              <MethodHeader method={method} />
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

/** The metrics' header row (label, help and direction), shared by the tables that score every method. */
export function MetricsHead() {
  return (
    <thead>
      <tr>
        <th scope="col">Method</th>
        {METRICS.map((metric) => (
          <th key={metric} scope="col" title={METRIC_INFO[metric].help}>
            {METRIC_INFO[metric].label}
            <span
              className="direction"
              aria-label={METRIC_INFO[metric].direction === 'lower' ? 'lower is better' : 'higher is better'}
            >
              {METRIC_INFO[metric].direction === 'lower' ? ' ↓' : ' ↑'}
            </span>
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A method's row header with its help as a tooltip. */
export function MethodHeader({ method }: { method: Method }) {
  return (
    <th scope="row" title={METHOD_INFO[method].help}>
      {METHOD_INFO[method].label}
    </th>
  );
}
