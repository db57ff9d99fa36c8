import type { Method, MetricValues } from '../../core/eval/types';
import { METHODS, METRICS } from '../../core/eval/types';
import { formatNumber } from '../lib/format';
import { LOWER_IS_BETTER, METHOD_HELP, METHOD_LABELS, METRIC_HELP, METRIC_LABELS } from '../lib/labels';

/** Every method scored against the simulator's noise-free effects instead of the noisy observations. */
export function TruthTable({ vsTruth, query }: { vsTruth: Record<Method, MetricValues>; query: number }) {
  return (
    <div className="table-scroll" tabIndex={0} aria-label="Scores against the truth, scrolls sideways">
      <table className="metrics" data-testid="truth-table">
        <caption>
          Against the noise-free truth the simulator kept, on the same {query} held-out perturbations: how
          close each method comes to the real effect, not to its noisy measurement.
        </caption>
        <thead>
          <tr>
            <th scope="col">Method</th>
            {METRICS.map((metric) => (
              <th key={metric} scope="col" title={METRIC_HELP[metric]}>
                {METRIC_LABELS[metric]}
                {LOWER_IS_BETTER.has(metric) ? ' ↓' : ' ↑'}
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
                const value = vsTruth[method][metric];
                return (
                  <td key={metric} data-metric={metric} data-value={String(value)}>
                    {Number.isNaN(value) ? '—' : formatNumber(value)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
