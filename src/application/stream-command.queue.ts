import { DomainError } from '../kernel/domain-error.js';

interface Lane {
  /** Resolves when the newest command has handed over or settled: the next one may start. */
  started: Promise<HandOver>;
  /** Resolves when every command queued so far has settled. */
  settled: Promise<void>;
  /** Commands queued or running on this stream. */
  size: number;
}

interface HandOver {
  readonly tip: unknown;
}

/** What a command learns from the one before it on its stream, and how it lets the next one start. */
export interface Turn {
  /**
   * What the command before handed over (the state its append, still uncommitted, would leave), or
   * undefined when it settled without handing over.
   */
  readonly tip: unknown;
  /** Resolves when every earlier command on the stream has settled. */
  readonly previousSettled: Promise<void>;
  /** Lets the next command start before this one settles, with `tip`; only the first call counts. */
  handOver(tip: unknown): void;
}

/** How many commands may wait for one stream before more are turned away (503 + Retry-After). */
export const DEFAULT_MAX_QUEUED_PER_STREAM = 1000;

const SETTLED: HandOver = { tip: undefined };

/**
 * Runs the commands of one stream in arrival order, so commands that reach one process never race
 * each other to append at the same revision (all but one would have to decide again). A command
 * starts once the one before it has settled or has handed over: deciding on the state an append
 * still in flight would leave, it can join the same group commit instead of waiting for that fsync
 * (command-handling.ts says when that is safe). Different streams run in parallel. A lane lives
 * only while its stream has commands queued or running, so the map holds idle streams not at all.
 */
export class StreamCommandQueue {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly maxQueuedPerStream = DEFAULT_MAX_QUEUED_PER_STREAM) {}

  run<T>(stream: string, work: (turn: Turn) => Promise<T>): Promise<T> {
    const lane = this.lanes.get(stream) ?? { started: Promise.resolve(SETTLED), settled: Promise.resolve(), size: 0 };
    if (lane.size >= this.maxQueuedPerStream) {
      return Promise.reject(new DomainError('unavailable', 'stream_busy', 'Too many commands are waiting for this resource; retry shortly.', { retryAfterSeconds: 1 }));
    }
    lane.size++;
    this.lanes.set(stream, lane);
    const previousSettled = lane.settled;
    let handOver!: (tip: unknown) => void;
    const handedOver = new Promise<HandOver>((resolve) => (handOver = (tip) => resolve({ tip })));
    const result = lane.started.then(({ tip }) => work({ tip, previousSettled, handOver }));
    // The next command starts when this one hands over or settles, whether it succeeded or failed.
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    lane.started = Promise.race([handedOver, settled.then(() => SETTLED)]);
    lane.settled = Promise.all([previousSettled, settled]).then(() => undefined);
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
