import type { DragEvent } from 'react';
import { useId, useState } from 'react';

interface Props {
  disabled: boolean;
  onFiles: (files: File[]) => void;
}

export const ACCEPTED = '.csv,.tsv,.txt,.gz,.gct,.h5ad,.mtx';

/** Drop area plus a real file input (keyboard and screen-reader friendly), both feeding onFiles. */
export function DropZone({ disabled, onFiles }: Props) {
  const [over, setOver] = useState(false);
  const inputId = useId();
  const hintId = useId();

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setOver(false);
    if (disabled) return;
    onFiles(Array.from(event.dataTransfer.files));
  };

  return (
    <div
      className={`drop-zone${over ? ' drop-zone-over' : ''}`}
      data-testid="drop-zone"
      onDragOver={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <p className="drop-zone-title">Drop your effects file(s) here</p>
      <p id={hintId} className="hint">
        Wide or long effects tables (CSV/TSV, optionally .gz), GCT, or a counts matrix with its sample sheet.
        Single cells: an AnnData .h5ad, or a 10x folder's matrix.mtx, barcodes.tsv, features.tsv (and
        cells.csv), pseudo-bulked here. Files are read in this browser only; nothing is uploaded.
      </p>
      <label htmlFor={inputId} className="button-like">
        Choose files…
      </label>
      <input
        id={inputId}
        className="visually-hidden-input"
        data-testid="file-input"
        type="file"
        multiple
        accept={ACCEPTED}
        disabled={disabled}
        aria-describedby={hintId}
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          // Clearing lets the same file be chosen again after a fix.
          e.target.value = '';
          onFiles(files);
        }}
      />
    </div>
  );
}
