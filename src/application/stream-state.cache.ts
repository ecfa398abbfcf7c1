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

export class StreamStateCache<S> {
  private readonly entries: LruMap<string, StreamSnapshot<S>>;

  constructor(maxStreams = 10_000) {
    this.entries = new LruMap(maxStreams);
  }

  get(stream: string): StreamSnapshot<S> | undefined {
    return this.entries.get(stream);
  }

  set(stream: string, snapshot: StreamSnapshot<S>): void {
    const current = this.entries.peek(stream);
    if (current && current.revision > snapshot.revision) return;
    this.entries.set(stream, snapshot);
  }
}
