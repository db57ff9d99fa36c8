import { METHODS, type Method } from '../../core/eval/methods';
import { MethodHeader, MetricsHead } from '../results/MetricsTable';
import { METRICS, type MetricValues } from '../../core/eval/metric-info';
import { formatNumber } from '../lib/format';

/** Every method scored against the simulator's noise-free effects instead of the noisy observations. */
export function TruthTable({ vsTruth, query }: { vsTruth: Record<Method, MetricValues>; query: number }) {
  return (
    <div className="table-scroll" tabIndex={0} aria-label="Scores against the truth, scrolls sideways">
      <table className="metrics" data-testid="truth-table">
        <caption>
          Against the noise-free truth the simulator kept, on the same {query} held-out perturbations: how
          close each method comes to the real effect, not to its noisy measurement.
        </caption>
        <MetricsHead />
        <tbody>
          {METHODS.map((method) => (
            <tr key={method} data-method={method} className={method === 'c3tl' ? 'ours' : undefined}>
              <MethodHeader method={method} />
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
