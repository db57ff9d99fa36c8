/** The banner over results whose data left some metrics undefined (core/eval/degenerate.ts says which). */
export function DataWarnings({ warnings }: { warnings: readonly string[] }) {
  if (!warnings.length) return null;
  return (
    <div className="data-warning" role="note" data-testid="data-warning">
      <p>
        <strong>Degenerate data: some metrics are undefined</strong> and shown as “—”.
      </p>
      <ul>
        {warnings.map((warning) => (
          <li key={warning}>{warning}</li>
        ))}
      </ul>
    </div>
  );
}
