/**
 * Runs heavy tasks one at a time and lets cancel() stop the one in progress. Each task gets its own
 * token, so cancelling never leaks into the task queued after it.
 */
export interface StopToken {
  readonly stopped: boolean;
}

export interface RunGate {
  run<T>(task: (token: StopToken) => Promise<T>): Promise<T>;
  /** Asks the running task to stop at its next check; true when a task was running. */
  cancel(): boolean;
}

export function createRunGate(): RunGate {
  let tail: Promise<unknown> = Promise.resolve();
  let active: { stopped: boolean } | null = null;
  return {
    run<T>(task: (token: StopToken) => Promise<T>): Promise<T> {
      const start = async (): Promise<T> => {
        const token = { stopped: false };
        active = token;
        try {
          return await task(token);
        } finally {
          if (active === token) active = null;
        }
      };
      const result = tail.then(start, start);
      tail = result.catch(() => undefined);
      return result;
    },
    cancel(): boolean {
      if (active === null) return false;
      active.stopped = true;
      return true;
    },
  };
}
