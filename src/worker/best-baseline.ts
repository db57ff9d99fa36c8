import type { Method, MetricValues } from '../core/eval/types';
import { BASELINE_METHODS } from '../core/eval/types';

/** The baseline with the highest finite mean pearson_centered (the first baseline when none is finite). */
export function bestBaseline(metrics: Record<Method, MetricValues>): Method {
  let best: Method = BASELINE_METHODS[0];
  for (const m of BASELINE_METHODS) {
    const v = metrics[m].pearson_centered;
    const b = metrics[best].pearson_centered;
    if (Number.isFinite(v) && (!Number.isFinite(b) || v > b)) best = m;
  }
  return best;
}
