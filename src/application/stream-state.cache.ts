import { LruMap } from '../kernel/lru.map.js';

/**
 * Folded states of recently used streams, so a command reads only the events appended since and
 * evolves from there instead of replaying the whole stream (a large organisation's stream grows
 * with every membership change). Always a cache: the store stays the source of truth, and events
 * newer than a cached revision are read from it before every decision.
 */
export interface StreamSnapshot<S> {
  readonly state: S;
  /** Revision the state is folded up to; -1 for an empty stream. */
  readonly revision: number;
  readonly position: string | null;
  /** Ids of events known to be in the stream; only ever grows, so every entry stays true. */
  readonly eventIds: Set<string>;
}

/**
 * The state an append still in flight would leave, handed from one command to the next on its
 * stream (StreamCommandQueue): the next command may decide on it and append right after that
 * append's last event, which the store checks, so nothing is committed on a state that never was.
 */
export interface PendingSnapshot<S> {
  readonly state: S;
  readonly revision: number;
  readonly lastEventId: string;
  /** Ids known to be stored (shared with the committed snapshot it grew from) and those in flight. */
  readonly eventIds: Set<string>;
  readonly pendingIds: readonly string[];
}

/** A pending snapshot as it travels through the queue, tagged with the cache and stream it belongs to. */
class Tip<S> {
  constructor(
    readonly cache: StreamStateCache<S>,
    readonly stream: string,
    readonly snapshot: PendingSnapshot<S>,
  ) {}
}

export class StreamStateCache<S> {
  private readonly entries: LruMap<string, StreamSnapshot<S>>;

  constructor(maxStreams = 10_000) {
    this.entries = new LruMap(maxStreams);
  }

  get(stream: string): StreamSnapshot<S> | undefined {
    return this.entries.get(stream);
  }

  /** `snapshot`, wrapped to be handed over to the next command on `stream`. */
  tip(stream: string, snapshot: PendingSnapshot<S>): unknown {
    return new Tip(this, stream, snapshot);
  }

  /**
   * The pending snapshot in a handed-over tip, if this cache made it for this stream: another
   * handler's commands on the same stream share the queue but not the state type.
   */
  pendingFrom(stream: string, tip: unknown): PendingSnapshot<S> | undefined {
    return tip instanceof Tip && tip.cache === this && tip.stream === stream ? (tip as Tip<S>).snapshot : undefined;
  }

  set(stream: string, snapshot: StreamSnapshot<S>): void {
    const current = this.entries.peek(stream);
    if (current && current.revision > snapshot.revision) return;
    this.entries.set(stream, snapshot);
  }
}
