import type { Method } from './methods';
import type { MetricValues } from './metric-info';
import { OTHER_METHODS } from './methods';

/**
 * The other method (C3TL's fixed form or a baseline) with the highest finite mean pearson_centered (the first
 * one when none is finite).
 */
export function bestBaseline(metrics: Record<Method, MetricValues>): Method {
  let best: Method = OTHER_METHODS[0];
  for (const m of OTHER_METHODS) {
    const v = metrics[m].pearson_centered;
    const b = metrics[best].pearson_centered;
    if (Number.isFinite(v) && (!Number.isFinite(b) || v > b)) best = m;
  }
  return best;
}
