import type { DragEvent } from 'react';
import { useId, useState } from 'react';
import { ACCEPTED_EXTENSIONS, FORMAT_INFO, SOURCE_FORMATS } from '../../core/data/format-info';

interface Props {
  disabled: boolean;
  onFiles: (files: File[]) => void;
}

const FORMATS_HINT = SOURCE_FORMATS.map((f) => FORMAT_INFO[f].label).join('; ');

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
        Accepted: {FORMATS_HINT}. Text files may be gzipped; single cells are pseudo-bulked here. Files are
        read in this browser only; nothing is uploaded.
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
        accept={ACCEPTED_EXTENSIONS}
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
