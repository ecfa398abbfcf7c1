import type { RecordedEvent } from '../kernel/event-envelope.js';
import type { EventStore } from '../ports/event-store.port.js';

const STREAM_PAGE = 1000;

export interface Replayable<S> {
  readonly initialState: S;
  evolve(state: S, event: never): S;
}

export interface StateAsOf<S> {
  readonly state: S;
  /** The last event folded in. */
  readonly revision: number;
  readonly position: string;
  readonly occurredAt: string;
  readonly eventsApplied: number;
}

/**
 * Folds the stream's events that had occurred at `at` through the decider's own evolve, so the
 * answer is the state the decider itself would have decided on then. Null before the first event.
 */
export async function stateAsOf<S>(store: EventStore, decider: Replayable<S>, stream: string, at: Date): Promise<StateAsOf<S> | null> {
  const evolve = decider.evolve as (state: S, event: RecordedEvent) => S;
  let state = decider.initialState;
  let last: RecordedEvent | null = null;
  let applied = 0;
  let fromRevision = 0;
  for (;;) {
    const page = await store.readStream(stream, { fromRevision, limit: STREAM_PAGE });
    for (const event of page) {
      if (Date.parse(event.metadata.occurredAt) > at.getTime()) continue;
      state = evolve(state, event);
      last = event;
      applied += 1;
    }
    if (page.length < STREAM_PAGE) break;
    fromRevision = page.at(-1)!.revision + 1;
  }
  if (last === null) return null;
  return { state, revision: last.revision, position: last.position, occurredAt: last.metadata.occurredAt, eventsApplied: applied };
}
