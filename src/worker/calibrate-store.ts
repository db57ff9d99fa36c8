/**
 * Where a device's calibration figures are remembered: one small record per device fingerprint in the
 * IndexedDB database `c3tl-calibration` (timings only, no data of the user). Reading never creates the
 * database; "Forget everything" deletes it with every other database of the site.
 */
import type { DBSchema } from 'idb';
import type { CalibrationRecord } from './calibrate-rules';
import type { DatabaseSpec } from './idb-connection';
import { withDatabase } from './idb-connection';

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
  const spec: DatabaseSpec<CalibrationDb> = {
    name,
    version: DB_VERSION,
    upgrade(database, oldVersion) {
      if (oldVersion < 1) database.createObjectStore('records', { keyPath: 'fingerprint' });
    },
  };
  return {
    get: (fingerprint) =>
      withDatabase(spec, false, null, async (db) => (await db.get('records', fingerprint)) ?? null),
    put: (record) =>
      withDatabase(spec, true, undefined, async (db) => {
        await db.put('records', record);
      }),
  };
}
