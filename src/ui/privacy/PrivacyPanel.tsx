import { useEffect, useRef, useState } from 'react';
import type { EngineClient } from '../state/engine-client';
import { forgetEverything, takeForgottenMarker } from './forget';
import './privacy.css';
import type { OfflineStatus } from './useOfflineStatus';
import { useOfflineStatus } from './useOfflineStatus';

const OFFLINE_TEXT: Record<OfflineStatus, string> = {
  development: 'Offline use is off in development builds.',
  unsupported:
    'This browser cannot keep the app for offline use here (it needs https or localhost and service workers).',
  preparing: 'Preparing offline use: storing a copy of the app’s files…',
  ready: 'Works offline: this browser keeps a copy of the app’s files (never your data).',
};

/** Where data is kept, how to check that nothing is sent, and a control that forgets everything. */
export function PrivacyPanel({ engine }: { engine: EngineClient }) {
  const offline = useOfflineStatus();
  const [forgotten] = useState(takeForgottenMarker);
  const [forgetting, setForgetting] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const notice = useRef<HTMLParagraphElement>(null);

  useEffect(() => {
    if (forgotten) notice.current?.scrollIntoView({ block: 'center' });
  }, [forgotten]);

  const forget = () => {
    setForgetting(true);
    setFailure(null);
    forgetEverything(engine).catch((error: unknown) => {
      setForgetting(false);
      setFailure(
        `Forgetting failed: ${String(error)}. Reload the page, or clear this site’s data in the browser.`,
      );
    });
  };

  return (
    <section className="privacy" aria-labelledby="privacy-title" data-testid="privacy-panel">
      <h2 id="privacy-title">Privacy</h2>
      {forgotten && (
        <p ref={notice} className="privacy-notice" role="status" data-testid="forget-status">
          Everything was forgotten: the dataset and results are gone from memory, and this site’s stored data
          (saved sessions and any other IndexedDB data, local and session storage, caches other than the app’s
          own files) was deleted.
        </p>
      )}
      <p data-testid="privacy-statement">
        <strong>Your data stays on this device.</strong> Files you open are read in this tab and kept only in
        memory, in this page and its engine worker; closing or reloading the tab discards them. Nothing is
        uploaded. Nothing is written to disk unless you save a session, which this browser keeps in its
        IndexedDB storage on this device; the only other thing kept there is how fast each compute backend ran
        here (a few timings, no data of yours), so that they need not be measured on every visit.
      </p>
      <p data-testid="offline-status" data-status={offline}>
        {OFFLINE_TEXT[offline]}
      </p>
      <div className="privacy-actions">
        <button
          type="button"
          className="danger"
          data-testid="forget-button"
          disabled={forgetting}
          onClick={forget}
        >
          {forgetting ? 'Forgetting…' : 'Forget everything'}
        </button>
        <span className="hint">
          Unloads the dataset, deletes saved sessions and anything else this site stored, and reloads the
          page.
        </span>
      </div>
      {failure && (
        <p className="warning" role="alert">
          {failure}
        </p>
      )}
      <details className="privacy-details">
        <summary>What is stored, what is sent, and how to check</summary>
        <ul>
          <li>
            <strong>Stored:</strong> a copy of the app’s own files (page, scripts, styles, the WebAssembly
            engine, icons) in the browser’s Cache Storage, so that it opens offline; it holds no data of
            yours. Sessions you save, in this site’s IndexedDB, until you delete them. The time of one
            training step on each compute backend, with this browser’s name, its number of cores and the
            graphics adapter’s name (to notice a different device), in the IndexedDB database
            c3tl-calibration.
          </li>
          <li>
            <strong>Not stored:</strong> anything you have not saved as a session: your files, the demo,
            trained models and results stay in memory. No cookies, no local or session storage.
          </li>
          <li>
            <strong>Sent:</strong> nothing. Once the page has loaded the app makes no network request at all;
            there is no analytics or telemetry, and its Content-Security-Policy forbids contacting any other
            site.
          </li>
          <li>
            <strong>Check it yourself:</strong> open the browser’s developer tools on the Network tab, then
            load a file and train: no request appears. The Application tab lists the app’s cache under
            Storage, and in IndexedDB the backend timings and any session you saved.
          </li>
          <li>
            <strong>Forget everything</strong> deletes this site’s IndexedDB databases (saved sessions
            included), local and session storage and any cache other than the app’s offline copy, unloads the
            dataset from the engine and reloads the page. The reloaded page times the backends again but does
            not store the timings. To remove the offline copy too, clear this site’s data in the browser’s
            settings.
          </li>
        </ul>
      </details>
    </section>
  );
}
