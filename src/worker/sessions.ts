/**
 * Saved sessions: the dataset (the EffectTensor's arrays and names), the setup and the results the UI
 * holds, kept in this browser's IndexedDB (through idb) on this device only, and only when the user presses
 * Save. Listing never creates the database, so a user who never saves has nothing stored.
 */
import * as Comlink from 'comlink';
import type { DBSchema, IDBPDatabase } from 'idb';
import type { EffectTensor } from '../core/data/tensor';
import type { InputRecord } from '../core/record';
import type { DatasetInfo, RestoredSession, SessionResults, SessionSummary } from './api-types';
import { describeDataset } from './dataset-info';
import type { DatabaseSpec } from './idb-connection';
import { withDatabase } from './idb-connection';
import type { RunGate } from './run-gate';

export const SESSION_DB = 'c3tl-sessions';
const DB_VERSION = 1;
/** Longest session name kept, in characters. */
export const MAX_NAME_LENGTH = 200;

/** The dataset as stored: the tensor's names and typed arrays (structured clone keeps them typed). */
export interface StoredDataset {
  contexts: string[];
  perturbations: string[];
  genes: string[];
  /** C*P*G effects, row-major by (context, perturbation, gene). */
  values: Float32Array;
  /** C*P, 1 where measured. */
  observed: Uint8Array;
  /** C*P input rows averaged per pair. */
  replicates: Uint16Array;
  /** C*G basal log expression, when the input had it. */
  basal?: Float32Array;
  /** DatasetInfo.source and the loader's notes, shown again on restore. */
  source: string;
  notes: string[];
  /** Files (names, sizes, SHA-256) or demo options, for the records of runs after a restore. */
  input: InputRecord;
}

/**
 * The shape of what a session stores. 1 (absent in the stored object): before C3TL gained its learnt transfer
 * path and the `calibrated` method; its results and model file no longer match what the app shows, so such a
 * session restores its dataset and settings only, with a note that says why.
 */
export const SESSION_SHAPE = 2;

export const EARLIER_SESSION_NOTE =
  'This session was saved by an earlier version of C3TL Studio, before C3TL gained its learnt transfer path: ' +
  'its dataset and settings are restored, its results and model are not. Train again to see results.';

export interface StoredSession {
  /** SESSION_SHAPE when it was saved; absent in sessions of shape 1. */
  shape?: number;
  id: string;
  dataset: StoredDataset;
  results: SessionResults;
  /**
   * The last trained (or imported) C3TL model as core's model file (model-file.ts), UTF-8 bytes; absent when
   * none was trained. Restoring makes it the engine's model again, so it can be exported or applied without
   * retraining.
   */
  modelFile?: Uint8Array;
}

interface SessionDb extends DBSchema {
  /** The list: small rows, read without touching the heavy data. */
  summaries: { key: string; value: SessionSummary };
  sessions: { key: string; value: StoredSession };
}

/** Where sessions live; IndexedDB in the app, anything with the same behaviour in tests. */
export interface SessionStore {
  /** Newest first. */
  list(): Promise<SessionSummary[]>;
  put(summary: SessionSummary, session: StoredSession): Promise<void>;
  get(id: string): Promise<{ summary: SessionSummary; session: StoredSession } | null>;
  /** True when a session was deleted. */
  delete(id: string): Promise<boolean>;
}

const newestFirst = (a: SessionSummary, b: SessionSummary): number =>
  b.savedAt - a.savedAt || a.name.localeCompare(b.name);

/**
 * Sessions in the IndexedDB database `name` (works in windows and workers of Chromium and Firefox). Each
 * call opens and closes its own connection, so "Forget everything" and other tabs are never blocked.
 */
export function indexedDbSessionStore(name = SESSION_DB): SessionStore {
  const spec: DatabaseSpec<SessionDb> = {
    name,
    version: DB_VERSION,
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        database.createObjectStore('summaries', { keyPath: 'id' });
        database.createObjectStore('sessions', { keyPath: 'id' });
      }
    },
  };
  const use = <T>(create: boolean, empty: T, work: (db: IDBPDatabase<SessionDb>) => Promise<T>) =>
    withDatabase(spec, create, empty, work);

  return {
    list: () => use(false, [], async (db) => (await db.getAll('summaries')).sort(newestFirst)),
    put: (summary, session) =>
      use(true, undefined, async (db) => {
        const tx = db.transaction(['summaries', 'sessions'], 'readwrite');
        await Promise.all([
          tx.objectStore('sessions').put(session),
          tx.objectStore('summaries').put(summary),
        ]);
        await tx.done;
      }),
    get: (id) =>
      use(false, null, async (db) => {
        const tx = db.transaction(['summaries', 'sessions'], 'readonly');
        const [summary, session] = await Promise.all([
          tx.objectStore('summaries').get(id),
          tx.objectStore('sessions').get(id),
        ]);
        await tx.done;
        return summary && session ? { summary, session } : null;
      }),
    delete: (id) =>
      use(false, false, async (db) => {
        const tx = db.transaction(['summaries', 'sessions'], 'readwrite');
        const existed = (await tx.objectStore('summaries').getKey(id)) !== undefined;
        await Promise.all([tx.objectStore('summaries').delete(id), tx.objectStore('sessions').delete(id)]);
        await tx.done;
        return existed;
      }),
  };
}

const encoder = new TextEncoder();

/**
 * Size of a stored value in bytes: typed arrays and ArrayBuffers by their byte length, strings (values and
 * keys) as UTF-8, numbers 8, booleans 1. The browser's own footprint on disk differs (it may compress).
 */
export function storedBytes(value: unknown): number {
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value.byteLength;
  if (typeof value === 'string') return encoder.encode(value).length;
  if (typeof value === 'number') return 8;
  if (typeof value === 'boolean') return 1;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + storedBytes(item), 0);
  if (typeof value === 'object' && value !== null) {
    let sum = 0;
    for (const [key, item] of Object.entries(value)) sum += encoder.encode(key).length + storedBytes(item);
    return sum;
  }
  return 0;
}

export interface LoadedDataset {
  tensor: EffectTensor;
  source: string;
  notes: readonly string[];
  input: InputRecord;
}

/** The dataset's parts for storage (structured clone copies the arrays when the store writes them). */
export function storeDataset(dataset: LoadedDataset): StoredDataset {
  const { tensor } = dataset;
  return {
    contexts: [...tensor.contexts],
    perturbations: [...tensor.perturbations],
    genes: [...tensor.genes],
    values: tensor.values,
    observed: tensor.observed,
    replicates: tensor.replicates,
    ...(tensor.basal ? { basal: tensor.basal } : {}),
    source: dataset.source,
    notes: [...dataset.notes],
    input: dataset.input,
  };
}

/** The stored dataset as a tensor again, after checking that every array has the size its names imply. */
export function restoreDataset(stored: StoredDataset): LoadedDataset {
  const C = stored.contexts.length;
  const P = stored.perturbations.length;
  const G = stored.genes.length;
  const expect = (what: string, actual: number | undefined, wanted: number) => {
    if (actual !== wanted) {
      throw new Error(
        `The saved session is damaged: ${what} has ${actual ?? 'no'} entries where ${wanted} were expected.`,
      );
    }
  };
  expect('values', stored.values?.length, C * P * G);
  expect('observed', stored.observed?.length, C * P);
  expect('replicates', stored.replicates?.length, C * P);
  if (stored.basal !== undefined) expect('basal', stored.basal.length, C * G);
  const tensor: EffectTensor = {
    contexts: stored.contexts,
    perturbations: stored.perturbations,
    genes: stored.genes,
    values: stored.values,
    observed: stored.observed,
    replicates: stored.replicates,
    ...(stored.basal ? { basal: stored.basal } : {}),
  };
  return { tensor, source: stored.source, notes: stored.notes, input: stored.input };
}

export interface SessionHost {
  gate: RunGate;
  store: SessionStore;
  /** The engine's current dataset, null when none is loaded. */
  current(): LoadedDataset | null;
  /** Makes a restored dataset the engine's current one. */
  replace(dataset: LoadedDataset): void;
  /** The engine's last model file (text), null when none; saved with the session. */
  model?: () => string | null;
  /** Makes a restored session's model file the engine's model (null: none). */
  replaceModel?: (text: string | null) => void;
  /** New session ids (crypto.randomUUID in the app). */
  newId?: () => string;
  now?: () => number;
}

/** The results' arrays, to transfer rather than copy to the UI (they were just read from the store). */
function buffersOf(results: SessionResults): ArrayBuffer[] {
  const out: ArrayBufferView[] = [];
  if (results.evaluation) {
    const e = results.evaluation;
    out.push(e.observed, e.contextMean, ...Object.values(e.predictions));
  }
  if (results.prediction) out.push(results.prediction.predictions);
  return [...new Set(out.map((a) => a.buffer as ArrayBuffer))];
}

/**
 * The engine's session methods: save (the current dataset plus the UI's results), list, restore (dataset
 * back into the engine, results back to the UI) and delete. Save and restore wait for the running task.
 */
export function sessionMethods(host: SessionHost) {
  const newId = host.newId ?? (() => crypto.randomUUID());
  const now = host.now ?? (() => Date.now());
  return {
    /** Stores the loaded dataset with the given setup and results under a name; returns its list entry. */
    saveSession(name: string, results: SessionResults): Promise<SessionSummary> {
      return host.gate.run(async () => {
        const dataset = host.current();
        if (dataset === null) throw new Error('No dataset is loaded: there is nothing to save.');
        const title = name.trim().slice(0, MAX_NAME_LENGTH);
        if (title === '') throw new Error('A session needs a name.');
        const id = newId();
        const model = host.model?.() ?? null;
        const session: StoredSession = {
          shape: SESSION_SHAPE,
          id,
          dataset: storeDataset(dataset),
          results,
          ...(model !== null && { modelFile: encoder.encode(model) }),
        };
        const summary: SessionSummary = {
          id,
          name: title,
          savedAt: now(),
          bytes: 0,
          source: dataset.source,
          contexts: dataset.tensor.contexts.length,
          perturbations: dataset.tensor.perturbations.length,
          genes: dataset.tensor.genes.length,
          mode: results.setup.mode,
          target: dataset.tensor.contexts[results.setup.target] ?? '',
          hasResults: results.evaluation !== null || results.prediction !== null || results.sweep !== null,
          hasModel: model !== null,
        };
        summary.bytes = storedBytes(session) + storedBytes(summary);
        await host.store.put(summary, session);
        return summary;
      });
    },

    /** Saved sessions, newest first; empty (and nothing created) when none was ever saved. */
    listSessions(): Promise<SessionSummary[]> {
      return host.store.list();
    },

    /** Loads a saved session's dataset into the engine and hands its setup and results back. */
    restoreSession(id: string): Promise<RestoredSession> {
      return host.gate.run(async () => {
        const found = await host.store.get(id);
        if (found === null) throw new Error('That session is no longer stored (deleted in another tab?).');
        const current = (found.session.shape ?? 1) === SESSION_SHAPE;
        const restoredData = restoreDataset(found.session.dataset);
        const dataset = current
          ? restoredData
          : { ...restoredData, notes: [...restoredData.notes, EARLIER_SESSION_NOTE] };
        host.replace(dataset);
        const modelFile = current ? found.session.modelFile : undefined;
        host.replaceModel?.(modelFile ? new TextDecoder().decode(modelFile) : null);
        const info: DatasetInfo = describeDataset(dataset.tensor, dataset.source, dataset.notes);
        const results: SessionResults = current
          ? found.session.results
          : { setup: found.session.results.setup, evaluation: null, prediction: null, sweep: null };
        const restored: RestoredSession = { summary: found.summary, dataset: info, ...results };
        return Comlink.transfer(restored, buffersOf(results));
      });
    },

    /** Deletes a saved session; true when it existed. */
    deleteSession(id: string): Promise<boolean> {
      return host.store.delete(id);
    },
  };
}
