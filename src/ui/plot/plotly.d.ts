// The cartesian dist bundle ships no types; only the calls made by Plot.tsx are declared.
declare module 'plotly.js-cartesian-dist-min' {
  export type PlotData = Record<string, unknown>;
  export type PlotLayout = Record<string, unknown>;
  export type PlotConfig = Record<string, unknown>;
  export interface PlotlyStatic {
    react(
      root: HTMLElement,
      data: PlotData[],
      layout?: PlotLayout,
      config?: PlotConfig,
    ): Promise<HTMLElement>;
    purge(root: HTMLElement): void;
    /** The drawn chart as a data: URL; width/height null keep its size on screen. */
    toImage(
      root: HTMLElement,
      options: { format: 'png' | 'svg'; width?: number | null; height?: number | null; scale?: number },
    ): Promise<string>;
    Plots: { resize(root: HTMLElement): void };
  }
  const Plotly: PlotlyStatic;
  export default Plotly;
}
