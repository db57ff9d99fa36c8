import * as tf from '@tensorflow/tfjs';
import type { BlockInputs, C3tlData, C3tlParameters, C3tlSwitches, GeneBlock } from './c3tl';
import { SHARED_PARAMETER_NAMES, blockVariables, episodeLoss } from './c3tl';
import type { Episode } from './episodes';
import { disposeEpisode, episodeTensors, supportPairsOf } from './train-episodes';
import { blockInputs, disposeInputs, fillPairRow, supportMoments, type HostData } from './train-host';

/*
 * One optimiser step of the fixed form's training (train.ts), shaped so that little moves between the host
 * and the device: the query terms of every pair sit on the device for the whole training (a step uploads the
 * query pairs' row indices, not their [Q, Gb] rows), and each gene block's gates are one variable.
 */

/** Largest resident query table, bytes (3 C P G float32); above it the rows are built and uploaded per step. */
export const RESIDENT_QUERY_BYTES = 256 * 1024 * 1024;

/**
 * Every pair's query terms on each gene block, [3 C P, Gb] per block (scaled units): rows [0, CP) the
 * pair's own effect y (0 for pairs that are not training pairs), rows [CP, 2CP) its perturbation mean
 * pm_p(-c), rows [2CP, 3CP) its denoising direction, as fillPairRow writes them. They depend only on the
 * training pairs, which stay fixed while one target trains. Undefined when the tables would exceed budget.
 */
export function residentQueryRows(
  host: HostData,
  blocks: GeneBlock[],
  budget = RESIDENT_QUERY_BYTES,
): tf.Tensor2D[] | undefined {
  const pairs = host.contexts * host.perturbations;
  if (3 * pairs * host.genes * 4 > budget) return undefined;
  return blocks.map((block) => {
    const table = new Float32Array(3 * pairs * block.size);
    const size = pairs * block.size;
    const row = {
      observed: table.subarray(0, size),
      mean: table.subarray(size, 2 * size),
      denoise: table.subarray(2 * size),
      offset: 0,
    };
    for (let pair = 0; pair < pairs; pair++) {
      row.offset = pair * block.size;
      fillPairRow(host, pair, block, row);
    }
    return tf.tensor2d(table, [3 * pairs, block.size]);
  });
}

/** The training step's state: the model, its data and the optimisers (one for shared weights, one per block). */
export interface StepTrainer {
  params: C3tlParameters;
  data: C3tlData | undefined;
  host: HostData;
  geneWeights: tf.Tensor1D[];
  switches: C3tlSwitches;
  resident: tf.Tensor2D[] | undefined;
  sharedOptimizer: tf.Optimizer;
  blockOptimizers: tf.Optimizer[];
}

export function createStepTrainer(
  params: C3tlParameters,
  data: C3tlData | undefined,
  host: HostData,
  geneWeights: tf.Tensor1D[],
  options: { switches: C3tlSwitches; learningRate: number; residentBudget?: number },
): StepTrainer {
  return {
    params,
    data,
    host,
    geneWeights,
    switches: options.switches,
    resident: residentQueryRows(host, params.geneBlocks, options.residentBudget),
    // Adam keys its moments by the position of a gradient in the list it is given, so each optimiser must
    // always see the same variables: one for the shared weights, one per gene block.
    sharedOptimizer: tf.train.adam(options.learningRate),
    blockOptimizers: params.geneBlocks.map(() => tf.train.adam(options.learningRate)),
  };
}

export function disposeStepTrainer(trainer: StepTrainer): void {
  trainer.sharedOptimizer.dispose();
  trainer.blockOptimizers.forEach((o) => o.dispose());
  tf.dispose(trainer.resident ?? []);
}

/** A step's inputs on block b: the query rows gathered from the resident tables, or built on the host. */
function stepInputs(
  trainer: StepTrainer,
  support: { weights: Float32Array; pairs: readonly number[] },
  queryPairs: Int32Array,
  b: number,
): { inputs: BlockInputs; queryObserved: tf.Tensor2D } {
  const { host, resident, geneWeights } = trainer;
  const block = trainer.params.geneBlocks[b];
  if (!resident) return blockInputs(host, support, queryPairs, block, geneWeights[b]);
  const pairs = host.contexts * host.perturbations;
  const Q = queryPairs.length;
  const rows = new Int32Array(3 * Q);
  for (let q = 0; q < Q; q++) {
    rows[q] = queryPairs[q];
    rows[Q + q] = pairs + queryPairs[q];
    rows[2 * Q + q] = 2 * pairs + queryPairs[q];
  }
  const [queryObserved, queryMean, queryDenoise] = tf.tidy(() =>
    tf.split(tf.gather(resident[b], tf.tensor1d(rows, 'int32')), 3, 0),
  ) as tf.Tensor2D[];
  return {
    inputs: {
      support: supportMoments(host, support, block),
      queryMean,
      queryDenoise,
      geneWeights: geneWeights[b],
    },
    queryObserved,
  };
}

/**
 * One optimiser step on a sampled episode, scored on gene block b: the loss's gradients applied by the
 * shared optimiser (when the network is on) and block b's. Returns the step's loss, a scalar tensor the
 * caller disposes.
 */
export function trainStep(trainer: StepTrainer, sampled: Episode, b: number): tf.Scalar {
  const { params, data, switches } = trainer;
  const support = { weights: sampled.supportWeights, pairs: supportPairsOf(sampled.supportWeights) };
  const episode = episodeTensors(trainer.host, support, sampled.queryPairs, switches.network);
  const { inputs, queryObserved } = stepInputs(trainer, support, sampled.queryPairs, b);
  const weights = tf.tensor2d(sampled.queryWeights, [sampled.queryPairs.length, 1]);
  const sharedVariables = SHARED_PARAMETER_NAMES.map((n) => params.shared[n]);
  const ownVariables = blockVariables(params.blocks[b]);
  const { value, grads } = tf.variableGrads(
    () => episodeLoss(params, data, episode, inputs, queryObserved, weights, { block: b, switches }),
    [...sharedVariables, ...ownVariables],
  );
  const gradientsOf = (vars: tf.Variable[]) =>
    vars.filter((v) => grads[v.name]).map((v) => ({ name: v.name, tensor: grads[v.name] }));
  const sharedGrads = gradientsOf(sharedVariables);
  if (sharedGrads.length > 0) trainer.sharedOptimizer.applyGradients(sharedGrads);
  trainer.blockOptimizers[b].applyGradients(gradientsOf(ownVariables));
  tf.dispose(Object.values(grads));
  disposeEpisode(episode);
  disposeInputs(inputs);
  tf.dispose([weights, queryObserved]);
  return value;
}
