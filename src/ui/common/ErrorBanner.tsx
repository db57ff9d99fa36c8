interface Props {
  message: string;
  onDismiss: () => void;
}

/** Every failure (rejected file, worker error) lands here; the rest of the page stays as it was. */
export function ErrorBanner({ message, onDismiss }: Props) {
  return (
    <div className="error-banner" role="alert" data-testid="error">
      <p>
        <strong>Error: </strong>
        <span data-testid="error-message">{message}</span>
      </p>
      <button type="button" className="secondary" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
