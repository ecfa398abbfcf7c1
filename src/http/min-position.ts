import { z } from 'zod';
import { isPosition } from '../kernel/position.js';
import type { ReadModelProgress } from '../projections/read-model-progress.js';
import { Problem } from './problem.js';

export const minPositionField = z
  .string()
  .refine(isPosition, 'a position returned by a command')
  .optional();

/**
 * Read-your-writes: a query carrying a command's position waits, boundedly, for read models to
 * reach it; past the bound it answers 503 rather than a stale view the caller would trust.
 */
export async function awaitReadModels(progress: ReadModelProgress, minPosition: string | undefined, timeoutMs: number): Promise<void> {
  if (minPosition === undefined) return;
  if (await progress.waitFor(minPosition, timeoutMs)) return;
  throw new Problem(503, 'read_models_behind', `Read models have not reached position ${minPosition} yet; retry shortly.`, {
    headers: { 'retry-after': '1' },
  });
}
