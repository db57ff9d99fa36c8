/** Model switches as run options (ablations): their names and the check of a requested set. */
import type { C3tlSwitches } from '../model/c3tl';

/** A run option the model cannot honour (an unknown switch): a usage error, never a skipped target. */
export class RunOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunOptionError';
  }
}

/**
 * The model's switch names. Checked against C3tlSwitches by the compiler (a renamed or new switch fails the
 * type check here), since training merges unknown names into its switches without complaint.
 */
const SWITCH_NAMES = {
  denoise: true,
  shift: true,
  slope: true,
  network: true,
  transfer: true,
  deviations: true,
  context: true,
  mix: true,
  linear: true,
} satisfies Record<keyof C3tlSwitches, true>;
export const MODEL_SWITCHES = Object.keys(SWITCH_NAMES) as (keyof C3tlSwitches)[];

/** Throws a RunOptionError naming the known switches when `switches` holds a name the model does not have. */
export function checkSwitches(switches: Record<string, boolean> | undefined): void {
  const unknown = Object.keys(switches ?? {}).filter((name) => !(MODEL_SWITCHES as string[]).includes(name));
  if (unknown.length > 0) {
    throw new RunOptionError(
      `Unknown model switch(es) ${unknown.join(', ')}; the model's switches are: ${MODEL_SWITCHES.join(', ')}.`,
    );
  }
}
