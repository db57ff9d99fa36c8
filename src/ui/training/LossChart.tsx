import { useMemo } from 'react';
import type { EpochLog } from '../../worker/api-types';
import type { PlotData, PlotLayout } from '../plot/Plot';
import { Plot } from '../plot/Plot';

/** Live training and validation loss (MSE on standardised genes) per epoch. */
export function LossChart({ epochs }: { epochs: EpochLog[] }) {
  const { data, layout } = useMemo(() => {
    const x = epochs.map((e) => e.epoch);
    const traces: PlotData[] = [
      {
        type: 'scatter',
        // Markers too, so that the first epoch is visible before there is a line to draw.
        mode: 'lines+markers',
        name: 'training loss',
        x,
        y: epochs.map((e) => e.trainLoss),
        line: { color: '#0b5cad', width: 2 },
        marker: { size: 5 },
      },
      {
        type: 'scatter',
        mode: 'lines+markers',
        name: 'validation loss',
        x,
        y: epochs.map((e) => (Number.isFinite(e.valLoss) ? e.valLoss : null)),
        line: { color: '#c2410c', width: 2, dash: 'dot' },
        marker: { size: 5, symbol: 'square' },
      },
    ];
    const best = epochs.length > 0 ? epochs[epochs.length - 1].bestEpoch : null;
    const plotLayout: PlotLayout = {
      xaxis: {
        title: { text: 'epoch' },
        rangemode: 'tozero',
        tickformat: 'd',
        // Whole epochs only: with few epochs Plotly would otherwise tick at 0.2, 0.4...
        ...(x.length <= 10 ? { dtick: 1 } : {}),
      },
      yaxis: { title: { text: 'loss (MSE, standardised genes)' } },
      legend: { orientation: 'h', y: 1.12 },
      shapes:
        best !== null && best > 0
          ? [
              {
                type: 'line',
                x0: best,
                x1: best,
                yref: 'paper',
                y0: 0,
                y1: 1,
                line: { color: '#52606d', dash: 'dash' },
              },
            ]
          : [],
    };
    return { data: traces, layout: plotLayout };
  }, [epochs]);

  return (
    <Plot
      data={data}
      layout={layout}
      height={280}
      testId="loss-chart"
      label="Training and validation loss per epoch; the dashed line marks the best epoch kept by early stopping"
    />
  );
}
