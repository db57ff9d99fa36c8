/** Dedicated module worker: everything heavy runs here, behind one Comlink API. */
import * as Comlink from 'comlink';
import { createEngine } from './engine';
import { installBundledH5Plugins } from './h5-plugins';

installBundledH5Plugins();

const api = createEngine();

export type EngineApi = typeof api;

Comlink.expose(api);
