/**
 * Where a device's calibration figures are remembered: one small record per device fingerprint in the
 * IndexedDB database `c3tl-calibration` (timings only, no data of the user). Reading never creates the
 * database; "Forget everything" deletes it with every other database of the site.
 */
import type { DBSchema, IDBPDatabase } from 'idb';
import { openDB } from 'idb';
import type { CalibrationRecord } from './calibrate-rules';

export const CALIBRATION_DB = 'c3tl-calibration';
const DB_VERSION = 1;

interface CalibrationDb extends DBSchema {
  records: { key: string; value: CalibrationRecord };
}

export interface CalibrationStore {
  /** The record stored for this fingerprint, null when there is none. */
  get(fingerprint: string): Promise<CalibrationRecord | null>;
  /** Stores (or replaces) the record of its fingerprint. */
  put(record: CalibrationRecord): Promise<void>;
}

/** A store that lives as long as the object (tests, and environments without IndexedDB). */
export function memoryCalibrationStore(): CalibrationStore & { records: Map<string, CalibrationRecord> } {
  const records = new Map<string, CalibrationRecord>();
  return {
    records,
    get: async (fingerprint) => structuredClone(records.get(fingerprint) ?? null),
    put: async (record) => {
      records.set(record.fingerprint, structuredClone(record));
    },
  };
}

/** Records in the IndexedDB database `name`; each call opens and closes its own connection. */
export function indexedDbCalibrationStore(name = CALIBRATION_DB): CalibrationStore {
  async function open(create: boolean): Promise<IDBPDatabase<CalibrationDb> | null> {
    if (!create && typeof indexedDB.databases === 'function') {
      const names = (await indexedDB.databases()).map((db) => db.name);
      if (!names.includes(name)) return null;
    }
    try {
      const db = await openDB<CalibrationDb>(name, DB_VERSION, {
        upgrade(database, oldVersion, _newVersion, transaction) {
          // Without databases() (older Firefox) opening would create it: abort that creation instead.
          if (oldVersion === 0 && !create) {
            transaction.abort();
            return;
          }
          if (oldVersion < 1) database.createObjectStore('records', { keyPath: 'fingerprint' });
        },
        blocking() {
          db.close();
        },
      });
      return db;
    } catch (error) {
      if (!create && (error as { name?: unknown } | null)?.name === 'AbortError') return null;
      throw error;
    }
  }

  return {
    async get(fingerprint) {
      const db = await open(false);
      if (db === null) return null;
      try {
        return (await db.get('records', fingerprint)) ?? null;
      } finally {
        db.close();
      }
    },
    async put(record) {
      const db = await open(true);
      if (db === null) return;
      try {
        await db.put('records', record);
      } finally {
        db.close();
      }
    },
  };
}
