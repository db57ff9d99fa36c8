/**
 * "Forget everything": what the app may have stored in this browser, and how it is removed. Everything a
 * user loads lives in memory (the page and the engine worker); IndexedDB is used only for sessions the user
 * saves. The service worker's precache holds the app's own files, never user data, and is kept so the app
 * still opens offline.
 */
import type { EngineClient } from '../state/engine-client';

/** Workbox's precache (the app's own files): kept, so the app still works offline. */
const APP_SHELL_CACHE = /^workbox-precache/;
/** How long the engine gets to stop its task and drop the dataset before the worker is ended anyway. */
const RESET_TIMEOUT_MS = 5000;
/** URL fragment that tells the reloaded page that everything was forgotten. */
export const FORGOTTEN_HASH = '#forgotten';

export interface StorageReport {
  /** Names of the IndexedDB databases deleted; null when this browser cannot list them. */
  databases: string[] | null;
  /** Cache Storage caches deleted (every cache except the app shell). */
  caches: string[];
  /** Entries removed from localStorage and sessionStorage together. */
  webStorageItems: number;
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    // Blocked: another tab still has it open; it is deleted as soon as that connection closes.
    request.onblocked = () => resolve();
    request.onerror = () => reject(request.error ?? new Error(`Could not delete the database ${name}.`));
  });
}

/** Deletes every IndexedDB database of this origin, caches other than the app shell, and web storage. */
export async function forgetStoredData(): Promise<StorageReport> {
  let databases: string[] | null = null;
  if (typeof indexedDB.databases === 'function') {
    const names = (await indexedDB.databases()).flatMap((db) => (db.name ? [db.name] : []));
    await Promise.all(names.map(deleteDatabase));
    databases = names;
  }
  const caches: string[] = [];
  if (typeof globalThis.caches === 'object') {
    for (const name of await globalThis.caches.keys()) {
      if (APP_SHELL_CACHE.test(name)) continue;
      await globalThis.caches.delete(name);
      caches.push(name);
    }
  }
  const webStorageItems = localStorage.length + sessionStorage.length;
  localStorage.clear();
  sessionStorage.clear();
  return { databases, caches, webStorageItems };
}

/**
 * Forgets everything and reloads: the engine drops its dataset (after stopping a running task), the worker
 * is then ended so nothing of its memory survives (wasm heap, GPU buffers), stored data is deleted, and the
 * page reloads so nothing of the dataset or results stays in the page either.
 */
export async function forgetEverything(engine: EngineClient): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, RESET_TIMEOUT_MS);
  });
  // An engine that is stuck or already gone must not stop the rest: the worker is ended below anyway.
  await Promise.race([engine.api.reset().catch(() => undefined), timeout]);
  clearTimeout(timer);
  engine.worker.terminate();
  await forgetStoredData();
  history.replaceState(null, '', `${location.pathname}${location.search}${FORGOTTEN_HASH}`);
  location.reload();
}

/** True once, right after the reload that forgetEverything started; removes the marker from the URL. */
export function takeForgottenMarker(): boolean {
  if (location.hash !== FORGOTTEN_HASH) return false;
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  return true;
}
