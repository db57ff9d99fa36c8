import { useMemo } from 'react';
import type { DatasetInfo } from '../../worker/api-types';
import type { PlotData, PlotLayout } from '../plot/Plot';
import { Plot } from '../plot/Plot';

/** Which (context, perturbation) pairs were measured: contexts in rows, perturbations in columns. */
export function CoverageHeatmap({ dataset }: { dataset: DatasetInfo }) {
  const { data, layout } = useMemo(() => {
    const P = dataset.perturbations.length;
    const z = dataset.contexts.map((_, c) => Array.from(dataset.observed.subarray(c * P, (c + 1) * P)));
    const text = z.map((row) => row.map((v) => (v ? 'measured' : 'not measured')));
    const traces: PlotData[] = [
      {
        type: 'heatmap',
        z,
        x: dataset.perturbations,
        y: dataset.contexts,
        text,
        zmin: 0,
        zmax: 1,
        colorscale: [
          [0, '#e5e7eb'],
          [0.5, '#e5e7eb'],
          [0.5, '#0b5cad'],
          [1, '#0b5cad'],
        ],
        showscale: false,
        xgap: P > 200 ? 0 : 1,
        ygap: 2,
        hovertemplate: '%{y} × %{x}: %{text}<extra></extra>',
      },
    ];
    const plotLayout: PlotLayout = {
      xaxis: { title: { text: `Perturbations (${P})` }, showticklabels: P <= 40, automargin: true },
      yaxis: { automargin: true, autorange: 'reversed' },
      margin: { l: 70, r: 10, t: 10, b: 50 },
    };
    return { data: traces, layout: plotLayout };
  }, [dataset]);

  const height = Math.min(420, 80 + 28 * dataset.contexts.length);
  return (
    <div className="coverage">
      <h3>Coverage</h3>
      <p className="hint">
        <span className="swatch swatch-on" aria-hidden="true" /> measured{' '}
        <span className="swatch swatch-off" aria-hidden="true" /> not measured. Gaps in a context are the
        perturbations prediction mode can fill in.
      </p>
      <Plot
        data={data}
        layout={layout}
        height={height}
        testId="coverage-heatmap"
        label={`Coverage heatmap of ${dataset.contexts.length} contexts by ${dataset.perturbations.length} perturbations`}
      />
    </div>
  );
}
