import { useId, useRef } from 'react';

/**
 * Applies a saved C3TL model file (.c3tl.json, from this app or the CLI) to the loaded dataset: the results
 * appear without training. The dataset must hold the model's genes, target and support; a refusal says why.
 */
export function ModelImport({ busy, onFile }: { busy: boolean; onFile: (file: File) => void }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  return (
    <section className="panel" aria-labelledby={`${id}-heading`} data-testid="model-import">
      <h2 id={`${id}-heading`}>Apply a saved model</h2>
      <p className="hint">
        A model file keeps the trained weights, genes, target and support. Load the data it was trained on (or
        data with the same genes, target and support), then pick the file: it predicts without training.
      </p>
      {/* A styled label over a hidden input: the native control's width depends on the font and overflows
          narrow screens. The input keeps the test id, so tests can still set its files. */}
      <div className="file-pick">
        <label htmlFor={`${id}-input`} className="button-like" aria-disabled={busy || undefined}>
          Choose a model file (.c3tl.json)…
        </label>
        <input
          ref={input}
          id={`${id}-input`}
          className="visually-hidden-input"
          type="file"
          accept=".json,application/json"
          data-testid="model-input"
          disabled={busy}
          onChange={(e) => {
            const file = e.target.files?.[0];
            // Cleared so that picking the same file again applies it again.
            if (input.current) input.current.value = '';
            if (file) onFile(file);
          }}
        />
      </div>
    </section>
  );
}
