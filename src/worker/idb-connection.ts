/**
 * One short-lived IndexedDB connection per call, for the engine's stores (sessions, calibration figures):
 * closed after the call and at once when another tab or "Forget everything" wants the database, so nothing
 * is ever blocked; and a read never creates a database that does not exist.
 */
import type { DBSchema, IDBPDatabase } from 'idb';
import { openDB } from 'idb';

export interface DatabaseSpec<DB extends DBSchema> {
  name: string;
  version: number;
  /** Creates the object stores missing at `oldVersion` (0 for a new database). */
  upgrade(database: IDBPDatabase<DB>, oldVersion: number): void;
}

function isAbort(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

/** The open database; null when create is false and it does not exist. */
async function open<DB extends DBSchema>(
  spec: DatabaseSpec<DB>,
  create: boolean,
): Promise<IDBPDatabase<DB> | null> {
  if (!create && typeof indexedDB.databases === 'function') {
    const names = (await indexedDB.databases()).map((db) => db.name);
    if (!names.includes(spec.name)) return null;
  }
  try {
    const db = await openDB<DB>(spec.name, spec.version, {
      upgrade(database, oldVersion, _newVersion, transaction) {
        // Without databases() (older Firefox), opening would create it: abort that creation instead.
        if (oldVersion === 0 && !create) {
          transaction.abort();
          return;
        }
        spec.upgrade(database, oldVersion);
      },
      blocking() {
        db.close();
      },
    });
    return db;
  } catch (error) {
    if (!create && isAbort(error)) return null;
    throw error;
  }
}

/**
 * Runs `work` on a fresh connection and closes it. With create false a missing database is left missing and
 * `empty` is the answer.
 */
export async function withDatabase<DB extends DBSchema, T>(
  spec: DatabaseSpec<DB>,
  create: boolean,
  empty: T,
  work: (db: IDBPDatabase<DB>) => Promise<T>,
): Promise<T> {
  const db = await open(spec, create);
  if (db === null) return empty;
  try {
    return await work(db);
  } finally {
    db.close();
  }
}
