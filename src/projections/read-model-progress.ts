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

interface Waiter {
  readonly position: string;
  readonly deadline: number;
  readonly resolve: (reached: boolean) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * For an API process that does not run the projector itself (ROLES without `projector`): read
 * the projector's checkpoints from the shared read store. One poll serves every waiting query:
 * under load each command's answer comes back as a read-your-writes query, and a poll per query
 * read every projection's checkpoint forty times a second for each of them.
 */
export class CheckpointProgress implements ReadModelProgress {
  private readonly waiters = new Set<Waiter>();
  private polling = false;
  /** The lowest checkpoint read last; checkpoints only move forward, so it stays reached. */
  private floor: string | null = null;

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
    if (this.covers(position) || this.covers(position, await this.readFloor())) return true;
    if (timeoutMs <= 0) return false;
    return new Promise((resolve, reject) => {
      this.waiters.add({ position, deadline: Date.now() + timeoutMs, resolve, reject });
      if (!this.polling) void this.poll();
    });
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      while (this.waiters.size > 0) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        let floor: string | null;
        try {
          floor = await this.readFloor();
        } catch (error) {
          // As a waiter polling on its own would have: the failure (a full disk) reaches every query.
          for (const waiter of this.waiters) waiter.reject(error);
          this.waiters.clear();
          return;
        }
        const now = Date.now();
        for (const waiter of this.waiters) {
          const reached = this.covers(waiter.position, floor);
          if (!reached && now < waiter.deadline) continue;
          this.waiters.delete(waiter);
          waiter.resolve(reached);
        }
      }
    } finally {
      this.polling = false;
    }
  }

  private covers(position: string, floor = this.floor): boolean {
    return floor !== null && comparePositions(floor, position) >= 0;
  }

  /** The position every projection has reached: the lowest of their checkpoints. */
  private async readFloor(): Promise<string | null> {
    let lowest: string | null = null;
    for (const name of this.projectionNames) {
      const checkpoint = await this.readStore.getCheckpoint(name);
      if (checkpoint === null) return null;
      if (lowest === null || comparePositions(checkpoint, lowest) < 0) lowest = checkpoint;
    }
    if (lowest !== null && (this.floor === null || comparePositions(lowest, this.floor) > 0)) this.floor = lowest;
    return lowest;
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
