/**
 * The engine's teaching path: a simulated screen made from the panel's settings becomes the dataset, and its
 * noise-free effects stay here beside it (never sent whole to the page) for the truth scores.
 */
import type { EffectTensor } from '../core/data/tensor';
import { simulatorOptionsOf, validateSimSettings, type SimSettings } from '../core/simulate/settings';
import { simulate, type SimulatedData } from '../core/simulate/simulator';
import { networkView, type NetworkViewData } from '../core/simulate/network-view';
import type { TargetEvaluation } from '../core/eval/results';
import { scoreAgainstTruth } from '../core/eval/truth';
import type { EvaluationView, LoadOutcome, LoadProgress } from './api-types';
import { describeDataset } from './dataset-info';
import type { RunGate } from './run-gate';
import type { LoadedDataset } from './sessions';

export interface SimulationHost {
  gate: RunGate;
  /** Makes the simulated dataset the engine's current one. */
  replace(dataset: LoadedDataset): void;
  notify(onProgress: ((progress: LoadProgress) => void) | undefined, progress: LoadProgress): void;
}

/** A simulated tensor, its noise-free effects (same layout as tensor.values) and its causal network. */
export interface HeldTruth extends Pick<SimulatedData, 'truth' | 'targets' | 'network'> {
  tensor: EffectTensor;
}

/** What the network view needs of the last evaluation on the simulated tensor. */
interface LastEvaluation {
  target: number;
  query: string[];
  genes: string[];
  c3tl: Float32Array;
}

export function describeSimulation(s: SimSettings): string {
  return (
    `Simulated screen (${s.contexts} contexts x ${s.perturbations} perturbations x ${s.genes} genes, ` +
    `kind ${s.kind}, modulation ${s.modulation}, seed ${s.seed})`
  );
}

/** `methods` join the engine's API; `truthOf` gives the truth of a tensor when it is the simulated one. */
export function simulationMethods(host: SimulationHost) {
  let held: HeldTruth | null = null;
  let last: LastEvaluation | null = null;
  const truthOf = (tensor: EffectTensor | null): HeldTruth | null =>
    held && tensor !== null && held.tensor === tensor ? held : null;
  const forget = (): void => {
    held = null;
    last = null;
  };
  /**
   * A restored session of a simulated screen: the simulator is deterministic, so simulating its options again
   * gives back its truth, kept when the values match the restored tensor exactly (otherwise none is kept).
   */
  const regain = (dataset: LoadedDataset): void => {
    forget();
    if (dataset.input.kind !== 'demo') return;
    const data = simulate(dataset.input.simulator);
    const a = data.tensor.values;
    const b = dataset.tensor.values;
    if (a.length === b.length && a.every((v, i) => Object.is(v, b[i])))
      keep({ ...data, tensor: dataset.tensor });
  };
  /** Keeps the truth of a simulated screen that is about to become the dataset. */
  const keep = (data: SimulatedData): void => {
    held = { tensor: data.tensor, truth: data.truth, targets: data.targets, network: data.network };
    last = null;
  };
  /** Keeps what the network view needs of an evaluation of the simulated tensor. */
  const rememberEvaluation = (tensor: EffectTensor, target: number, result: TargetEvaluation): void => {
    last = truthOf(tensor)
      ? { target, query: result.queryPerturbations, genes: result.genes, c3tl: result.predictions.c3tl }
      : null;
  };
  const methods = {
    /** Simulates the screen of the settings and makes it the dataset; invalid settings come back as data. */
    loadSimulation(
      settings: SimSettings,
      onProgress?: (progress: LoadProgress) => void,
    ): Promise<LoadOutcome> {
      return host.gate.run(async (): Promise<LoadOutcome> => {
        const valid = validateSimSettings(settings);
        if (!valid.ok) {
          const error = { file: 'simulation settings', expected: 'settings in range', found: valid.reason };
          return {
            ok: false,
            error: { ...error, message: `The simulation settings are invalid: ${valid.reason}` },
          };
        }
        const source = describeSimulation(valid.data);
        host.notify(onProgress, { fraction: Number.NaN, message: `Simulating: ${source}…` });
        const options = simulatorOptionsOf(valid.data);
        const data = simulate(options);
        keep(data);
        host.replace({ tensor: data.tensor, source, notes: [], input: { kind: 'demo', simulator: options } });
        return { ok: true, dataset: describeDataset(data.tensor, source, []) };
      });
    },

    /**
     * The network view of a held-out perturbation of the last evaluation on the simulated screen, against a
     * reference context (null: the one most like the target on its support).
     */
    networkView(perturbation: string, reference: number | null): Promise<NetworkViewData> {
      return host.gate.run(async () => {
        const sim = held;
        const run = last;
        if (!sim || !run) throw new Error('The network view needs an evaluation on a simulated screen.');
        const p = sim.tensor.perturbations.indexOf(perturbation);
        if (p < 0) throw new Error(`Perturbation "${perturbation}" is not in the simulated screen.`);
        const q = run.query.indexOf(perturbation);
        const G = run.genes.length;
        const predicted =
          q < 0 ? null : new Map(run.genes.map((gene, g) => [gene, run.c3tl[q * G + g]] as const));
        const P = sim.tensor.perturbations.length;
        const inQuery = new Set(run.query);
        const support = sim.tensor.perturbations
          .map((name, i) => (sim.tensor.observed[run.target * P + i] && !inQuery.has(name) ? i : -1))
          .filter((i) => i >= 0);
        return networkView({ sim, target: run.target, support, perturbation: p, reference, predicted });
      });
    },
  };
  return { methods, truthOf, keep, regain, forget, rememberEvaluation };
}

/** Noise ceiling, scores against the truth and the truth's rows for the held-out pairs of an evaluation. */
export function truthView(
  held: { tensor: EffectTensor; truth: Float32Array },
  target: number,
  result: TargetEvaluation,
): NonNullable<EvaluationView['truth']> {
  const { ceiling, vsTruth, values } = scoreAgainstTruth(held.tensor, held.truth, target, result);
  return { ceiling, vsTruth, values };
}
