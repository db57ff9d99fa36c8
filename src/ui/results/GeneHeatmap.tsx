import { useMemo } from 'react';
import type { EvaluationView } from '../../worker/api-types';
import type { PlotData, PlotLayout } from '../plot/Plot';
import { Plot } from '../plot/Plot';
import { robustLimit, strongestRows, topVariableGenes } from '../lib/results';

const TOP_GENES = 25;
const TOP_PERTURBATIONS = 30;

/** Observed and C3TL-predicted effects side by side, for the most variable genes and strongest perturbations. */
export function GeneHeatmap({ view }: { view: EvaluationView }) {
  const { data, layout, genes, rows } = useMemo(() => {
    const G = view.genes.length;
    const Q = view.queryPerturbations.length;
    const genes = topVariableGenes(view.observed, Q, G, TOP_GENES);
    const rows = strongestRows(view.observed, Q, G, TOP_PERTURBATIONS);
    const predicted = view.predictions.c3tl ?? new Float32Array(view.observed.length);
    const matrix = (values: Float32Array) => rows.map((q) => genes.map((g) => values[q * G + g]));
    const observed = matrix(view.observed);
    const ours = matrix(predicted);
    const limit = robustLimit([...observed.flat(), ...ours.flat()]);
    const x = genes.map((g) => view.genes[g]);
    const y = rows.map((q) => view.queryPerturbations[q]);
    const common = {
      type: 'heatmap',
      x,
      y,
      zmin: -limit,
      zmax: limit,
      // Diverging, white at zero: red up, blue down (Plotly's own RdBu puts blue at the high end).
      colorscale: [
        [0, '#2166ac'],
        [0.25, '#67a9cf'],
        [0.5, '#f7f7f7'],
        [0.75, '#ef8a62'],
        [1, '#b2182b'],
      ],
    };
    const traces: PlotData[] = [
      {
        ...common,
        z: observed,
        xaxis: 'x',
        yaxis: 'y',
        showscale: false,
        hovertemplate: '%{y} · %{x}<br>observed %{z:.3f}<extra></extra>',
      },
      {
        ...common,
        z: ours,
        xaxis: 'x2',
        yaxis: 'y',
        colorbar: { title: { text: 'effect' }, thickness: 12 },
        hovertemplate: '%{y} · %{x}<br>C3TL %{z:.3f}<extra></extra>',
      },
    ];
    const plotLayout: PlotLayout = {
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: { domain: [0, 0.47], tickangle: -60, tickfont: { size: 10 } },
      xaxis2: { domain: [0.51, 0.98], tickangle: -60, tickfont: { size: 10 } },
      yaxis: { autorange: 'reversed', automargin: true, tickfont: { size: 10 } },
      annotations: [
        {
          text: 'Observed',
          x: 0.235,
          xref: 'paper',
          y: 1.04,
          yref: 'paper',
          showarrow: false,
          font: { size: 14 },
        },
        {
          text: 'C3TL predicted',
          x: 0.745,
          xref: 'paper',
          y: 1.04,
          yref: 'paper',
          showarrow: false,
          font: { size: 14 },
        },
      ],
      margin: { l: 90, r: 20, t: 40, b: 90 },
    };
    return { data: traces, layout: plotLayout, genes, rows };
  }, [view]);

  return (
    <div className="gene-heatmap">
      <h3>Observed vs predicted, top genes</h3>
      <p className="hint">
        The {genes.length} genes that vary most across held-out perturbations, for the {rows.length} strongest
        perturbations. Red: up, blue: down; same colour scale on both sides (the most extreme 2% of cells
        saturate).
      </p>
      <Plot
        data={data}
        layout={layout}
        height={Math.max(360, 140 + rows.length * 16)}
        testId="gene-heatmap"
        label={`Heatmap of observed and predicted effects for ${genes.length} genes and ${rows.length} perturbations`}
      />
    </div>
  );
}
