import * as tf from '@tensorflow/tfjs';
import { transferInputs, type TransferInputs } from './transfer';
import { buildEpisode, type TransferEpisode, type TransferSource } from './transfer-data';

/*
 * The transfer path's per-perturbation profiles on the device for the whole training (transfer-train.ts).
 * A perturbation's deviation profiles over the references and its mean profile depend only on the episode's
 * context and the training pairs, not on the episode's support or queries, so each trainable context's
 * profiles of every perturbation are uploaded once and a step gathers its rows: it uploads row indices and
 * the support's residuals instead of [Q + S, K, F] profiles.
 */

/** Largest resident profile tables, bytes (trainable contexts x P x (K + 1) x F float32). */
export const RESIDENT_PROFILE_BYTES = 256 * 1024 * 1024;

/** One context's profiles of every perturbation: deviations [P, K F] and means [P, F] (scaled units). */
interface ContextProfiles {
  dev: tf.Tensor2D;
  mean: tf.Tensor2D;
}

export type ResidentProfiles = Map<number, ContextProfiles>;

/**
 * The profile tables of the given contexts, built by buildEpisode itself (so a gathered row is exactly the
 * row an episode would upload); undefined when they would exceed budget.
 */
export function residentProfiles(
  source: TransferSource,
  contexts: readonly number[],
  budget = RESIDENT_PROFILE_BYTES,
): ResidentProfiles | undefined {
  const C = source.tensor.contexts.length;
  const P = source.tensor.perturbations.length;
  const F = source.features.length;
  if (contexts.length * P * C * F * 4 > budget) return undefined;
  const all = Array.from({ length: P }, (_, p) => p);
  const tables: ResidentProfiles = new Map();
  for (const context of contexts) {
    const episode = buildEpisode(source, context, [], all);
    const K = episode.references;
    tables.set(context, {
      dev: tf.tensor2d(episode.devQuery, [P, K * F]),
      mean: tf.tensor2d(episode.meanQuery, [P, F]),
    });
  }
  return tables;
}

export function disposeProfiles(tables: ResidentProfiles | undefined): void {
  if (tables) for (const t of tables.values()) tf.dispose([t.dev, t.mean]);
}

/**
 * An episode's inputs: profiles gathered from its context's resident tables when there are some (the episode
 * may then be built without profiles), else uploaded from the episode; residuals uploaded either way.
 */
export function episodeInputs(
  episode: TransferEpisode,
  features: number,
  tables: ResidentProfiles | undefined,
): TransferInputs {
  const own = tables?.get(episode.context);
  if (!own) return transferInputs(episode, features);
  const S = episode.support.length;
  const Q = episode.queries.length;
  const K = episode.references;
  const G = episode.residual.length / Math.max(S, 1);
  return tf.tidy(() => {
    const rows = (pairs: number[]) => tf.tensor1d(pairs, 'int32');
    const supportRows = rows(episode.support);
    const queryRows = rows(episode.queries);
    return {
      devQuery: tf.reshape(tf.gather(own.dev, queryRows), [Q, K, features]) as tf.Tensor3D,
      devSupport: tf.reshape(tf.gather(own.dev, supportRows), [S, K, features]) as tf.Tensor3D,
      meanQuery: tf.gather(own.mean, queryRows) as tf.Tensor2D,
      meanSupport: tf.gather(own.mean, supportRows) as tf.Tensor2D,
      residual: tf.tensor2d(episode.residual, [S, G]),
      ...(episode.mix && { mix: tf.tensor2d(episode.mix, [Q, G]) }),
      ...(episode.supportInverse && { supportInverse: tf.tensor2d(episode.supportInverse, [S, S]) }),
    };
  });
}
