import { useEffect, useRef } from 'react';
import { BackendBadge } from './common/BackendBadge';
import { ErrorBanner } from './common/ErrorBanner';
import { ErrorBoundary } from './common/ErrorBoundary';
import { DataPanel } from './data/DataPanel';
import { ExportPanel } from './export/ExportPanel';
import { ModelImport } from './export/ModelImport';
import { PredictionPanel } from './results/PredictionPanel';
import { PrivacyPanel } from './privacy/PrivacyPanel';
import { ResultsPanel } from './results/ResultsPanel';
import { SessionsPanel } from './sessions/SessionsPanel';
import { SetupPanel } from './setup/SetupPanel';
import type { EngineClient } from './state/engine-client';
import { useStudio } from './state/useStudio';
import { SweepPanel } from './sweep/SweepPanel';
import { TrainingPanel } from './training/TrainingPanel';
import { SimPanel } from './teach/SimPanel';
import { useSimulationLink } from './teach/useSimulationLink';

/** `?demo` in the address loads the built-in demo at once (the README's quick start opens it so). */
function useDemoFromAddress(loadDemo: () => void): void {
  const requested = useRef(false);
  useEffect(() => {
    if (requested.current || !new URLSearchParams(window.location.search).has('demo')) return;
    requested.current = true;
    loadDemo();
  }, [loadDemo]);
}

export function App({ engine }: { engine: EngineClient }) {
  const { state, actions } = useStudio(engine);
  useDemoFromAddress(actions.loadDemo);
  const link = useSimulationLink(actions.simulate, actions.reportLinkError);
  const { task, dataset, setup } = state;
  const busy = task !== null;
  const training = task === 'evaluate' || task === 'predict';
  const showTraining = training || state.epochs.length > 0;
  // The results on screen: those of the mode the setup shows.
  const shownResult = setup.mode === 'evaluate' ? state.evaluation : state.prediction;

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <div className="brand">
          <h1>C3TL Studio</h1>
          <p className="tagline">
            Predict perturbation effects in a new cellular context. Runs entirely in your browser: no data
            leaves this machine.
          </p>
        </div>
        <BackendBadge
          backend={state.backend}
          preference={state.preference}
          disabled={busy}
          onChange={actions.setPreference}
          onRecalibrate={actions.recalibrate}
        />
      </header>
      <main id="main">
        <p className="status" role="status" aria-live="polite" data-testid="status">
          {state.status}
        </p>
        {state.error && <ErrorBanner message={state.error} onDismiss={actions.dismissError} />}
        <ErrorBoundary>
          <DataPanel
            dataset={dataset}
            busy={busy}
            loading={
              task === 'demo' ||
              task === 'simulate' ||
              task === 'files' ||
              task === 'cells' ||
              task === 'pseudobulk'
            }
            progress={state.loadProgress}
            onDemo={actions.loadDemo}
            onFiles={actions.loadFiles}
            cells={state.cells}
            onPreview={actions.previewGroups}
            onPseudobulk={actions.pseudobulk}
            {...(task === 'pseudobulk' && { onCancelLoad: actions.cancel, cancelling: state.cancelling })}
            simulation={
              <SimPanel key={link.key} initial={link.settings} busy={busy} onGenerate={actions.simulate} />
            }
          />
        </ErrorBoundary>
        {dataset && (
          <ErrorBoundary>
            <SetupPanel
              dataset={dataset}
              setup={setup}
              busy={busy}
              onChange={actions.updateSetup}
              onTrain={() => actions.train(setup)}
            />
          </ErrorBoundary>
        )}
        {dataset && (
          <ErrorBoundary>
            <ModelImport busy={busy} onFile={actions.importModel} />
          </ErrorBoundary>
        )}
        {showTraining && (
          <ErrorBoundary>
            <TrainingPanel
              epochs={state.epochs}
              running={training}
              cancelling={state.cancelling}
              onCancel={actions.cancel}
            />
          </ErrorBoundary>
        )}
        {state.evaluation && setup.mode === 'evaluate' && (
          <ErrorBoundary>
            <ResultsPanel view={state.evaluation} engine={engine} />
          </ErrorBoundary>
        )}
        {state.prediction && setup.mode === 'predict' && (
          <ErrorBoundary>
            <PredictionPanel view={state.prediction} />
          </ErrorBoundary>
        )}
        {shownResult && (
          <ErrorBoundary>
            <ExportPanel view={shownResult} engine={engine} />
          </ErrorBoundary>
        )}
        {dataset && (
          <ErrorBoundary>
            <SweepPanel
              dataset={dataset}
              setup={setup}
              sweep={state.sweep}
              busy={busy}
              cancelling={state.cancelling}
              onSweep={() => actions.sweep(setup)}
              onCancel={actions.cancel}
            />
          </ErrorBoundary>
        )}
        <ErrorBoundary>
          <SessionsPanel
            engine={engine}
            dataset={dataset}
            results={{
              setup,
              evaluation: state.evaluation,
              prediction: state.prediction,
              sweep: state.sweep && state.sweep.points.length > 0 ? state.sweep.points : null,
            }}
            busy={busy}
            onRestore={actions.restoreSession}
          />
        </ErrorBoundary>
      </main>
      <footer className="app-footer">
        <p>
          C3TL: causal cellular context transfer learning (Scholkemper &amp; Mukherjee, 2026), reimplemented
          for the browser. Baselines are always shown beside the model.
        </p>
        <PrivacyPanel engine={engine} />
      </footer>
    </>
  );
}
