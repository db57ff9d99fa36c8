import { useState } from 'react';
import { errorMessage } from '../state/errors';
import { dataUrlToBlob, downloadBlob } from './download';
import './export.css';

export type ImageFormat = 'png' | 'svg';

interface Props {
  /** File name without extension. */
  name: string;
  /** What the chart shows, for the buttons' accessible names. */
  label: string;
  /** Renders the chart as a data: URL in the format (Plotly.toImage). */
  render: (format: ImageFormat) => Promise<string>;
}

/** "PNG" and "SVG" buttons under a chart: the image is drawn in the page and saved, nothing is sent. */
export function ChartExport({ name, label, render }: Props) {
  const [working, setWorking] = useState<ImageFormat | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const save = (format: ImageFormat) => {
    setWorking(format);
    setFailure(null);
    render(format)
      .then((url) => downloadBlob(dataUrlToBlob(url), `${name}.${format}`))
      .catch((error: unknown) => setFailure(`The image could not be made: ${errorMessage(error)}`))
      .finally(() => setWorking(null));
  };

  return (
    <div className="chart-export" role="group" aria-label={`Download the chart: ${label}`}>
      <span className="hint">Download</span>
      {(['png', 'svg'] as const).map((format) => (
        <button
          key={format}
          type="button"
          className="small"
          data-testid={`export-${format}`}
          disabled={working !== null}
          aria-label={`Download as ${format.toUpperCase()}: ${label}`}
          onClick={() => save(format)}
        >
          {working === format ? '…' : format.toUpperCase()}
        </button>
      ))}
      {failure && (
        <span className="warning" role="alert">
          {failure}
        </span>
      )}
    </div>
  );
}
