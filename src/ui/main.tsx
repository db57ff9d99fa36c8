import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ErrorBoundary } from './common/ErrorBoundary';
import { startEngine } from './state/engine-client';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('The page has no #root element.');

// One engine worker for the page's lifetime.
const engine = startEngine();

createRoot(root).render(
  <StrictMode>
    <ErrorBoundary>
      <App engine={engine} />
    </ErrorBoundary>
  </StrictMode>,
);
