import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { Method } from '../../../../src/core/eval/methods';
import type { MetricValues } from '../../../../src/core/eval/metric-info';
import { METHODS } from '../../../../src/core/eval/methods';
import { METRICS } from '../../../../src/core/eval/metric-info';
import { DataWarnings } from '../../../../src/ui/results/DataWarnings';
import { MetricsTable } from '../../../../src/ui/results/MetricsTable';

describe('results on degenerate data', () => {
  it('shows a banner naming what is degenerate, and nothing when all is well', () => {
    const warning = 'Target "A": all 3 held-out pairs ("p1", "p2", "p3") have an effect of 0 on every gene.';
    const html = renderToStaticMarkup(createElement(DataWarnings, { warnings: [warning] }));
    expect(html).toContain('data-testid="data-warning"');
    expect(html).toContain('Target &quot;A&quot;: all 3 held-out pairs');
    expect(renderToStaticMarkup(createElement(DataWarnings, { warnings: [] }))).toBe('');
  });

  it('shows undefined metrics as a dash, never as a number', () => {
    const metrics = Object.fromEntries(
      METHODS.map((m) => [m, Object.fromEntries(METRICS.map((k) => [k, k === 'mse' ? 0.25 : NaN]))]),
    ) as Record<Method, MetricValues>;
    const html = renderToStaticMarkup(createElement(MetricsTable, { metrics, query: 3 }));
    const cells = [...html.matchAll(/<td [^>]*data-metric="(\w+)"[^>]*>(.*?)<\/td>/g)];
    expect(cells).toHaveLength(METHODS.length * METRICS.length);
    for (const [, metric, text] of cells) {
      if (metric === 'mse') expect(text).toBe('0.25');
      else expect(text).toMatch(/^<span aria-label="undefined"[^>]*>—<\/span>$/);
    }
  });
});
