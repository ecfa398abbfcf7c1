import { DomainError } from '../kernel/domain-error.js';
import { comparePositions } from '../kernel/position.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { ReadStore } from '../ports/read-store.port.js';

/** How far read models have caught up with the event store; answers read-your-writes waits. */
export interface ReadModelProgress {
  isRunning(): boolean;
  waitFor(position: string, timeoutMs: number): Promise<boolean>;
  /** The position of the last event written to history, or null while it is empty. */
  headPosition(): Promise<string | null>;
}

const POLL_MS = 25;

/**
 * For an API process that does not run the projector itself (ROLES without `projector`): read
 * the projector's checkpoints from the shared read store.
 */
export class CheckpointProgress implements ReadModelProgress {
  constructor(
    private readonly events: Pick<EventStore, 'headPosition'>,
    private readonly readStore: ReadStore,
    private readonly projectionNames: readonly string[],
  ) {}

  isRunning(): boolean {
    return true;
  }

  headPosition(): Promise<string | null> {
    return this.events.headPosition();
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
 * reach it; past the bound it answers 503 rather than a stale view the caller would trust. A
 * position beyond anything written was never answered by a command: waiting for it could only
 * end in that 503, so it is refused at once as bad input.
 */
export async function awaitReadModels(progress: ReadModelProgress, minPosition: string | undefined, timeoutMs: number): Promise<void> {
  if (minPosition === undefined) return;
  if (await progress.waitFor(minPosition, 0)) return;
  const head = await progress.headPosition();
  if (head === null || comparePositions(minPosition, head) > 0) {
    throw new DomainError('invalid', 'unknown_position', `No event has been written at position ${minPosition}; pass a position a command answered.`);
  }
  if (await progress.waitFor(minPosition, timeoutMs)) return;
  throw new DomainError('unavailable', 'read_models_behind', `Read models have not reached position ${minPosition} yet; retry shortly.`, {
    retryAfterSeconds: 1,
  });
}
