import { DomainError } from '../kernel/domain-error.js';
import { comparePositions } from '../kernel/position.js';
import type { ReadStore } from '../ports/read-store.port.js';

/** How far read models have caught up with the event store; answers read-your-writes waits. */
export interface ReadModelProgress {
  isRunning(): boolean;
  waitFor(position: string, timeoutMs: number): Promise<boolean>;
}

const POLL_MS = 25;

/**
 * For an API process that does not run the projector itself (ROLES without `projector`): read
 * the projector's checkpoints from the shared read store.
 */
export class CheckpointProgress implements ReadModelProgress {
  constructor(
    private readonly readStore: ReadStore,
    private readonly projectionNames: readonly string[],
  ) {}

  isRunning(): boolean {
    return true;
  }

  async waitFor(position: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.reached(position)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private async reached(position: string): Promise<boolean> {
    for (const name of this.projectionNames) {
      const checkpoint = await this.readStore.getCheckpoint(name);
      if (checkpoint === null || comparePositions(checkpoint, position) < 0) return false;
    }
    return true;
  }
}

/**
 * Read-your-writes: a query carrying a command's position waits, boundedly, for read models to
 * reach it; past the bound it answers 503 rather than a stale view the caller would trust.
 */
export async function awaitReadModels(progress: ReadModelProgress, minPosition: string | undefined, timeoutMs: number): Promise<void> {
  if (minPosition === undefined) return;
  if (await progress.waitFor(minPosition, timeoutMs)) return;
  throw new DomainError('unavailable', 'read_models_behind', `Read models have not reached position ${minPosition} yet; retry shortly.`, {
    retryAfterSeconds: 1,
  });
}
