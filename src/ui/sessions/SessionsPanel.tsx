import { useCallback, useEffect, useState } from 'react';
import type { DatasetInfo, SessionResults, SessionSummary } from '../../worker/api-types';
import type { EngineClient } from '../state/engine-client';
import { errorMessage } from '../state/errors';
import { defaultSessionName, formatDecimalBytes } from './format';
import './sessions.css';

interface Props {
  engine: EngineClient;
  dataset: DatasetInfo | null;
  /** The setup and results the page holds now: what Save keeps. */
  results: SessionResults;
  busy: boolean;
  /** applyModel: then apply the model the session kept (one click from a saved session to its predictions). */
  onRestore: (id: string, applyModel?: boolean) => void;
}

/** Save the dataset, setup and results in this browser, list what was saved, restore or delete it. */
export function SessionsPanel({ engine, dataset, results, busy, onRestore }: Props) {
  const [sessions, setSessions] = useState<SessionSummary[] | null>(null);
  const [name, setName] = useState('');
  const [saving, setSaving] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const refresh = useCallback(
    () =>
      engine.api
        .listSessions()
        .then(setSessions)
        .catch((error: unknown) =>
          setFailure(`The saved sessions could not be read: ${errorMessage(error)}`),
        ),
    [engine],
  );

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const save = () => {
    if (!dataset) return;
    const title =
      name.trim() ||
      defaultSessionName(dataset.contexts[results.setup.target], results.setup.mode, new Date());
    setSaving(true);
    setFailure(null);
    setMessage(null);
    engine.api
      .saveSession(title, results)
      .then((summary) => {
        setName('');
        setMessage(`Saved “${summary.name}” (${formatDecimalBytes(summary.bytes)}).`);
        return refresh();
      })
      .catch((error: unknown) => setFailure(`Saving failed: ${errorMessage(error)}`))
      .finally(() => setSaving(false));
  };

  const remove = (session: SessionSummary) => {
    setFailure(null);
    setMessage(null);
    engine.api
      .deleteSession(session.id)
      .then(() => {
        setMessage(`Deleted “${session.name}”.`);
        return refresh();
      })
      .catch((error: unknown) => setFailure(`Deleting failed: ${errorMessage(error)}`));
  };

  return (
    <section className="panel" aria-labelledby="sessions-heading" data-testid="sessions-view">
      <h2 id="sessions-heading">Saved sessions</h2>
      <p className="hint">
        Save keeps the dataset, the setup and the results in this browser (IndexedDB, on this device only).
        Nothing is stored until you press Save; Forget everything (in the footer) deletes every saved session.
      </p>
      <form
        className="session-save"
        onSubmit={(event) => {
          event.preventDefault();
          save();
        }}
      >
        <label className="field inline">
          Name
          <input
            type="text"
            data-testid="session-name-input"
            value={name}
            maxLength={200}
            placeholder="default: target, mode and time"
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <button type="submit" data-testid="save-session-button" disabled={!dataset || busy || saving}>
          {saving ? 'Saving…' : 'Save session'}
        </button>
        {!dataset && <span className="hint">Load data first.</span>}
      </form>
      <p className="session-message" role="status" aria-live="polite">
        {message}
      </p>
      {failure && (
        <p className="warning" role="alert">
          {failure}
        </p>
      )}
      {sessions !== null && sessions.length === 0 ? (
        <p className="empty" data-testid="sessions-empty">
          No saved sessions in this browser.
        </p>
      ) : (
        <ul className="sessions-list" data-testid="sessions-list">
          {(sessions ?? []).map((session) => (
            <li key={session.id} data-testid="session-row" data-session-id={session.id}>
              <div className="session-text">
                <span className="session-name" data-testid="session-name">
                  {session.name}
                </span>
                <span className="hint">
                  <time dateTime={new Date(session.savedAt).toISOString()}>
                    {new Date(session.savedAt).toLocaleString()}
                  </time>
                  {' · '}
                  <span
                    data-testid="session-size"
                    data-bytes={session.bytes}
                    title={`${session.bytes} bytes`}
                  >
                    {formatDecimalBytes(session.bytes)}
                  </span>
                  {' · '}
                  {session.contexts} × {session.perturbations} × {session.genes}, {session.mode}{' '}
                  {session.target}
                  {session.hasResults ? ', with results' : ''}
                  {session.hasModel ? ', with its model' : ''}
                </span>
              </div>
              <div className="session-actions">
                <button
                  type="button"
                  data-testid="restore-session-button"
                  disabled={busy}
                  aria-label={`Restore ${session.name}`}
                  onClick={() => onRestore(session.id)}
                >
                  Restore
                </button>
                {session.hasModel && (
                  <button
                    type="button"
                    data-testid="restore-apply-model-button"
                    disabled={busy}
                    aria-label={`Restore ${session.name} and apply its model`}
                    title="Restores the session, then applies the model it kept to its dataset, without training"
                    onClick={() => onRestore(session.id, true)}
                  >
                    Predict with its model
                  </button>
                )}
                <button
                  type="button"
                  className="danger"
                  data-testid="delete-session-button"
                  disabled={busy}
                  aria-label={`Delete ${session.name}`}
                  onClick={() => remove(session)}
                >
                  Delete
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
