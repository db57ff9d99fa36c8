import * as tf from '@tensorflow/tfjs';
import type { C3tlArchitecture, C3tlData, C3tlParameters, C3tlSwitches, ParameterName } from './c3tl';
import {
  GENE_PARAMETER_NAMES,
  SHARED_PARAMETER_NAMES,
  forward,
  parameterShapes,
  parameterValues,
} from './c3tl';
import { fixedSupportWeights } from './episodes';
import { applyHeldGenes, heldGenes } from './held-genes';
import type { GeneStandardisation } from './standardise';
import { disposeEpisode, episodeTensors, supportPairsOf } from './train-episodes';
import { blockInputs, disposeInputs, type HostData } from './train-host';

/*
 * What a trained fixed form answers (train.ts): its predictions in original units and its weights in the
 * tensor's gene order.
 */

/** The trained fixed form; `state` holds the host and device data it reads (replaced for the final model). */
export interface FixedFormModel {
  architecture: C3tlArchitecture;
  params: C3tlParameters;
  geneWeights: tf.Tensor1D[];
  switches: C3tlSwitches;
  /** The tensor's gene at each model position. */
  geneOrder: Int32Array;
  standard: GeneStandardisation;
  state: { host: HostData; data: C3tlData | undefined };
}

/**
 * The fixed form's effects of the given perturbations in a context whose known pairs are `support`
 * (original units, tensor gene order): Q*G. It reads the current host data: the training pairs until the
 * final model's data replace them. Genes that do not respond in the context (held-genes.ts) are predicted at
 * their held value. form.slope false: the same trained form with its support slope term left out.
 */
export async function predictFixedForm(
  model: FixedFormModel,
  context: number,
  support: readonly number[],
  perturbations: readonly number[],
  form: { slope?: boolean } = {},
): Promise<Float32Array> {
  const { params, geneOrder, standard } = model;
  const switches = form.slope === false ? { ...model.switches, slope: false } : model.switches;
  const { host, data } = model.state;
  const { contexts: C, perturbations: P, genes: G } = host;
  const Q = perturbations.length;
  const out = new Float32Array(Q * G);
  if (Q === 0) return out;
  const weights = fixedSupportWeights(C, P, context, support);
  const known = { weights, pairs: supportPairsOf(weights) };
  // Chunks bound the memory of the [chunk, Gb] intermediates in prediction mode (thousands of pairs).
  const chunk = 512;
  for (let start = 0; start < Q; start += chunk) {
    const part = Int32Array.from(perturbations.slice(start, start + chunk), (p) => context * P + p);
    const episode = episodeTensors(host, known, part, switches.network);
    for (const [b, block] of params.geneBlocks.entries()) {
      const { inputs, queryObserved } = blockInputs(host, known, part, block, model.geneWeights[b]);
      queryObserved.dispose();
      const scaled = tf.tidy(() => forward(params, data, episode, inputs, { block: b, switches }));
      // Asynchronous read: a synchronous one of a WebGPU tensor destroys the device in a browser worker.
      const values = (await scaled.data()) as Float32Array;
      scaled.dispose();
      disposeInputs(inputs);
      for (let q = 0; q < part.length; q++) {
        const row = (start + q) * G;
        for (let i = 0; i < block.size; i++) {
          const g = geneOrder[block.begin + i];
          out[row + g] = values[q * block.size + i] * standard.scale[g] + standard.mean[g];
        }
      }
    }
    disposeEpisode(episode);
  }
  applyHeldGenes(out, G, heldGenes(host.source, P, G, context, support));
  return out;
}

/** Current weights keyed by parameter name, gene axes in the tensor's gene order (read asynchronously). */
export async function tensorOrderWeights(
  model: FixedFormModel,
): Promise<Record<ParameterName, Float32Array>> {
  const { architecture, geneOrder } = model;
  const G = architecture.genes;
  const shapes = parameterShapes(architecture);
  const values = await parameterValues(architecture, model.params);
  const out = {} as Record<ParameterName, Float32Array>;
  for (const name of SHARED_PARAMETER_NAMES) out[name] = values[name];
  for (const name of GENE_PARAMETER_NAMES) {
    const rows = shapes[name].length === 2 ? shapes[name][0] : 1;
    const ordered = new Float32Array(values[name].length);
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < G; i++) ordered[r * G + geneOrder[i]] = values[name][r * G + i];
    out[name] = ordered;
  }
  return out;
}
