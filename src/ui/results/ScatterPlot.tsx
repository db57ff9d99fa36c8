import { useMemo } from 'react';
import type { EvaluationView } from '../../worker/api-types';
import { METHOD_INFO } from '../../core/eval/methods';
import type { PlotData, PlotLayout } from '../plot/Plot';
import { Plot } from '../plot/Plot';

interface Props {
  view: EvaluationView;
  /** Index into view.queryPerturbations. */
  query: number;
  /** What the x axis shows: the observations, or the simulator's noise-free effects (view.truth). */
  x?: 'observed' | 'truth';
}

/** Predicted vs observed effect over genes for one held-out perturbation, with the identity line. */
export function ScatterPlot({ view, query, x = 'observed' }: Props) {
  const { data, layout } = useMemo(() => {
    const G = view.genes.length;
    const axis = x === 'truth' && view.truth ? 'true effect' : 'observed effect';
    const source = x === 'truth' && view.truth ? view.truth.values : view.observed;
    const observed = Array.from(source.subarray(query * G, (query + 1) * G));
    const series = (['c3tl', view.bestBaseline] as const).flatMap((method, i) => {
      const predicted = view.predictions[method];
      if (!predicted) return [];
      const trace: PlotData = {
        type: 'scatter',
        mode: 'markers',
        name: METHOD_INFO[method].label,
        x: observed,
        y: Array.from(predicted.subarray(query * G, (query + 1) * G)),
        text: view.genes,
        hovertemplate: `%{text}<br>${axis} %{x:.3f}<br>${METHOD_INFO[method].label} %{y:.3f}<extra></extra>`,
        marker:
          i === 0
            ? { color: '#0b5cad', size: 6, opacity: 0.8 }
            : { color: '#c2410c', size: 5, opacity: 0.55, symbol: 'x' },
        visible: i === 0 ? true : 'legendonly',
      };
      return [trace];
    });
    let lo = 0;
    let hi = 0;
    for (const values of [observed, ...series.map((t) => t.y as number[])]) {
      for (const v of values) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    const pad = (hi - lo) * 0.05 || 0.1;
    const identity: PlotData = {
      type: 'scatter',
      mode: 'lines',
      name: 'perfect prediction (y = x)',
      x: [lo - pad, hi + pad],
      y: [lo - pad, hi + pad],
      line: { color: '#52606d', dash: 'dash', width: 1 },
      hoverinfo: 'skip',
    };
    const plotLayout: PlotLayout = {
      xaxis: { title: { text: axis }, zeroline: true, zerolinecolor: '#cbd2d9' },
      yaxis: {
        title: { text: 'predicted effect' },
        zeroline: true,
        zerolinecolor: '#cbd2d9',
        scaleanchor: 'x',
      },
      legend: { orientation: 'h', y: 1.1 },
      hovermode: 'closest',
    };
    return { data: [identity, ...series], layout: plotLayout };
  }, [view, query, x]);

  return (
    <Plot
      data={data}
      layout={layout}
      height={420}
      testId="scatter-plot"
      label={`Predicted versus ${x === 'truth' && view.truth ? 'true' : 'observed'} effect over ${view.genes.length} genes for ${view.queryPerturbations[query]}`}
    />
  );
}
