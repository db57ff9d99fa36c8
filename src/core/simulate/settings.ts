/**
 * The teaching panel's simulation settings, their simulator options, and their form in an address fragment
 * (`#sim=kind:default,contexts:6,...`): settings only, never data, so a link reproduces a screen.
 */
import { SIM_KINDS, simulatorOptionsForKind, type SimKind } from './kinds';
import type { SimulatorOptions } from './simulator';

export interface SimSettings {
  /** Which preset the screen starts from (kinds.ts); the knobs below override its network knobs. */
  kind: SimKind;
  contexts: number;
  perturbations: number;
  genes: number;
  /** Treated replicates per pair and control replicates per context. */
  replicates: number;
  /** Mean total counts per sample (library size). */
  depth: number;
  /** SD of the low-rank edge modulation; 0: every context uses one network (only basal expression differs). */
  modulation: number;
  /** Share of edges each context switches off (partly shared by sibling contexts). */
  edgesOff: number;
  /** Share of perturbations that are multi-target drugs; the rest are knockdowns. */
  drugs: number;
  seed: number;
}

/** The built-in demo's screen: the simulator's defaults. */
export const DEFAULT_SIM_SETTINGS: Readonly<SimSettings> = {
  kind: 'default',
  contexts: 6,
  perturbations: 300,
  genes: 1000,
  replicates: 3,
  depth: 2e7,
  modulation: 3,
  edgesOff: 0.1,
  drugs: 0.2,
  seed: 1,
};

type NumericKey = Exclude<keyof SimSettings, 'kind'>;

interface Bounds {
  min: number;
  max: number;
  integer: boolean;
  label: string;
}

/** Allowed values per numeric setting; sizes are kept to what trains in a browser tab. */
export const SIM_BOUNDS: Record<NumericKey, Bounds> = {
  contexts: { min: 2, max: 24, integer: true, label: 'contexts' },
  perturbations: { min: 10, max: 2000, integer: true, label: 'perturbations' },
  genes: { min: 20, max: 5000, integer: true, label: 'genes' },
  replicates: { min: 1, max: 20, integer: true, label: 'replicates' },
  depth: { min: 1e4, max: 1e9, integer: false, label: 'sequencing depth' },
  modulation: { min: 0, max: 10, integer: false, label: 'context modulation' },
  edgesOff: { min: 0, max: 0.9, integer: false, label: 'share of edges switched off' },
  drugs: { min: 0, max: 1, integer: false, label: 'share of drugs' },
  seed: { min: 1, max: 2 ** 31 - 1, integer: true, label: 'seed' },
};

/** Fragment keys in their written order. */
const KEYS = [
  'kind',
  'contexts',
  'perturbations',
  'genes',
  'replicates',
  'depth',
  'modulation',
  'edgesOff',
  'drugs',
  'seed',
] as const satisfies readonly (keyof SimSettings)[];

export const SIM_FRAGMENT_PREFIX = '#sim=';

export type SettingsResult = { ok: true; data: SimSettings } | { ok: false; reason: string };

/**
 * The settings of a kind: the defaults with the kind's network knobs (no-modulation: modulation 0; gains:
 * weak modulation and fewer edges off), size, noise and seed kept from `from`.
 */
export function settingsForKind(kind: SimKind, from: SimSettings = DEFAULT_SIM_SETTINGS): SimSettings {
  const options = simulatorOptionsForKind(kind) ?? {};
  return {
    ...from,
    kind,
    modulation:
      options.modulation === false ? 0 : (options.modulationStrength ?? DEFAULT_SIM_SETTINGS.modulation),
    edgesOff: options.edgeOffFraction ?? DEFAULT_SIM_SETTINGS.edgesOff,
  };
}

/** Checks every value and the simulator's one joint rule (each knockdown needs its own gene). */
export function validateSimSettings(settings: SimSettings): SettingsResult {
  if (!(SIM_KINDS as readonly string[]).includes(settings.kind)) {
    return { ok: false, reason: `kind must be one of ${SIM_KINDS.join(', ')}, got "${settings.kind}".` };
  }
  for (const key of KEYS) {
    if (key === 'kind') continue;
    const problem = boundsProblem(key, settings[key]);
    if (problem) return { ok: false, reason: problem };
  }
  const knockdowns = settings.perturbations - Math.round(settings.drugs * settings.perturbations);
  if (knockdowns > settings.genes) {
    return {
      ok: false,
      reason: `${knockdowns} knockdowns need as many distinct genes, but there are ${settings.genes} genes: add genes or drugs.`,
    };
  }
  return { ok: true, data: { ...settings } };
}

function boundsProblem(key: NumericKey, value: number): string | null {
  const b = SIM_BOUNDS[key];
  const range = `${b.integer ? 'a whole number' : 'a number'} from ${b.min} to ${b.max}`;
  if (!Number.isFinite(value) || value < b.min || value > b.max || (b.integer && !Number.isInteger(value))) {
    return `${b.label} must be ${range}, got ${String(value)}.`;
  }
  return null;
}

/**
 * Simulator options of valid settings (validateSimSettings first): the kind's preset, then the knobs.
 * Settings equal to DEFAULT_SIM_SETTINGS give the simulator's defaults, hence the demo's screen exactly.
 */
export function simulatorOptionsOf(settings: SimSettings): SimulatorOptions {
  const { modulation: _preset, ...kindOptions } = simulatorOptionsForKind(settings.kind) ?? {};
  return {
    ...kindOptions,
    contexts: settings.contexts,
    perturbations: settings.perturbations,
    genes: settings.genes,
    seed: settings.seed,
    replicates: settings.replicates,
    librarySize: settings.depth,
    drugFraction: settings.drugs,
    ...(settings.modulation === 0
      ? { modulation: false }
      : { modulationStrength: settings.modulation, edgeOffFraction: settings.edgesOff }),
    counts: false,
  };
}

/** `#sim=kind:default,contexts:6,...`, every setting in a fixed order. */
export function formatSimFragment(settings: SimSettings): string {
  return SIM_FRAGMENT_PREFIX + KEYS.map((key) => `${key}:${String(settings[key])}`).join(',');
}

/**
 * Settings from an address fragment (with or without the leading '#'). Missing keys take the defaults, so
 * `#sim=kind:no-modulation` is a valid link; an unknown or repeated key, a value that is not a number or out
 * of range fails with a sentence naming it.
 */
export function parseSimFragment(fragment: string): SettingsResult {
  const text = fragment.startsWith('#') ? fragment : `#${fragment}`;
  if (!text.startsWith(SIM_FRAGMENT_PREFIX)) {
    return { ok: false, reason: `A simulation link's address ends in "${SIM_FRAGMENT_PREFIX}…".` };
  }
  let body: string;
  try {
    body = decodeURIComponent(text.slice(SIM_FRAGMENT_PREFIX.length));
  } catch {
    return { ok: false, reason: 'The settings in the link are not valid percent-encoding.' };
  }
  const fail = (why: string): SettingsResult => ({
    ok: false,
    reason: `The simulation settings in the link could not be read: ${why}`,
  });
  const given = new Map<string, string>();
  for (const part of body.split(',')) {
    if (part.trim() === '') continue;
    const colon = part.indexOf(':');
    if (colon < 0) return fail(`"${part}" is not key:value.`);
    const key = part.slice(0, colon).trim();
    if (!(KEYS as readonly string[]).includes(key)) {
      return fail(`unknown setting "${key}" (known: ${KEYS.join(', ')}).`);
    }
    if (given.has(key)) return fail(`"${key}" is given twice.`);
    given.set(key, part.slice(colon + 1).trim());
  }
  // The kind first: settings the link leaves out take the kind's values.
  const kind = given.get('kind') ?? DEFAULT_SIM_SETTINGS.kind;
  if (!(SIM_KINDS as readonly string[]).includes(kind)) {
    return fail(`kind must be one of ${SIM_KINDS.join(', ')}, got "${kind}".`);
  }
  const settings = settingsForKind(kind as SimKind);
  for (const [key, value] of given) {
    if (key === 'kind') continue;
    const number = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value) ? Number(value) : Number.NaN;
    if (Number.isNaN(number)) return fail(`${key} must be a number, got "${value}".`);
    settings[key as NumericKey] = number;
  }
  const valid = validateSimSettings(settings);
  return valid.ok ? valid : fail(valid.reason);
}
