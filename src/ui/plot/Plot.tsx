import type { PlotConfig, PlotData, PlotLayout, PlotlyStatic } from 'plotly.js-cartesian-dist-min';
import { useEffect, useRef, useState } from 'react';
import type { ImageFormat } from '../export/ChartExport';
import { ChartExport } from '../export/ChartExport';

export type { PlotData, PlotLayout };

interface PlotProps {
  data: PlotData[];
  layout: PlotLayout;
  /** What the chart shows, read by screen readers (the numbers are also in tables nearby). */
  label: string;
  testId?: string;
  height?: number;
  /** File name of the PNG/SVG downloads, without extension; default c3tl-<testId>. */
  exportName?: string;
}

const CONFIG: PlotConfig = {
  responsive: true,
  displaylogo: false,
  showLink: false,
  showSendToCloud: false,
  modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d'],
  toImageButtonOptions: { format: 'png', scale: 2 },
};

const BASE_LAYOUT: PlotLayout = {
  font: { family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', size: 13, color: '#1f2933' },
  paper_bgcolor: '#ffffff',
  plot_bgcolor: '#ffffff',
  margin: { l: 60, r: 20, t: 30, b: 50 },
  hoverlabel: { font: { size: 13 } },
};

/** Loaded on first use so that the first paint does not wait for Plotly. */
async function loadPlotly(): Promise<PlotlyStatic> {
  const mod = await import('plotly.js-cartesian-dist-min');
  return (mod as unknown as { default?: PlotlyStatic }).default ?? (mod as unknown as PlotlyStatic);
}

/** A Plotly chart that re-renders in place (Plotly.react) whenever data or layout change. */
export function Plot({ data, layout, label, testId, height = 360, exportName }: PlotProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    const root = ref.current;
    if (!root) return;
    let current = true;
    loadPlotly()
      .then((Plotly) => {
        if (!current) return;
        return Plotly.react(root, data, { ...BASE_LAYOUT, height, ...layout }, CONFIG);
      })
      .catch((error: unknown) => {
        if (current) setFailure(`The chart could not be drawn: ${String(error)}`);
      });
    return () => {
      current = false;
    };
  }, [data, layout, height]);

  useEffect(() => {
    const root = ref.current;
    return () => {
      if (root) void loadPlotly().then((Plotly) => Plotly.purge(root));
    };
  }, []);

  // width/height null: the image has the chart's size on screen (undefined would mean Plotly's 700 x 450).
  const render = async (format: ImageFormat): Promise<string> => {
    const root = ref.current;
    if (!root) throw new Error('the chart is not on the page');
    const Plotly = await loadPlotly();
    return Plotly.toImage(root, { format, width: null, height: null, scale: format === 'png' ? 2 : 1 });
  };

  return (
    <figure className="plot">
      <div ref={ref} data-testid={testId} role="img" aria-label={label} style={{ minHeight: height }} />
      {failure && <p className="plot-failure">{failure}</p>}
      <ChartExport name={exportName ?? `c3tl-${testId ?? 'chart'}`} label={label} render={render} />
    </figure>
  );
}
