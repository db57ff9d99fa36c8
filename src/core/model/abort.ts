/** Thrown by training when its shouldStop hook asks it to stop; nothing of the run is left behind. */
export class AbortError extends Error {
  constructor() {
    super('Training was cancelled.');
    this.name = 'AbortError';
  }
}
