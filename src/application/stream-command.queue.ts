import { DomainError } from '../kernel/domain-error.js';

interface Lane {
  tail: Promise<void>;
  /** Commands queued or running on this stream. */
  size: number;
}

/** How many commands may wait for one stream before more are turned away (503 + Retry-After). */
export const DEFAULT_MAX_QUEUED_PER_STREAM = 1000;

/**
 * Runs the commands of one stream one after another, in arrival order, so commands that reach one
 * process never conflict with each other (they would otherwise race to append at the same revision
 * and all but one would have to decide again). Different streams run in parallel. A lane lives only
 * while its stream has commands queued or running, so the map holds idle streams not at all.
 */
export class StreamCommandQueue {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly maxQueuedPerStream = DEFAULT_MAX_QUEUED_PER_STREAM) {}

  run<T>(stream: string, work: () => Promise<T>): Promise<T> {
    const lane = this.lanes.get(stream) ?? { tail: Promise.resolve(), size: 0 };
    if (lane.size >= this.maxQueuedPerStream) {
      return Promise.reject(new DomainError('unavailable', 'stream_busy', 'Too many commands are waiting for this resource; retry shortly.', { retryAfterSeconds: 1 }));
    }
    lane.size++;
    this.lanes.set(stream, lane);
    const result = lane.tail.then(work);
    // The next command waits for this one to settle, whether it succeeded or failed.
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    lane.tail = settled;
    void settled.then(() => this.leave(stream, lane));
    return result;
  }

  /** Streams with commands queued or running (for tests and metrics). */
  activeStreams(): number {
    return this.lanes.size;
  }

  private leave(stream: string, lane: Lane): void {
    lane.size--;
    if (lane.size === 0 && this.lanes.get(stream) === lane) this.lanes.delete(stream);
  }
}
