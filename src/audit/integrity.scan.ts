import type { EventStore } from '../ports/event-store.port.js';
import { storePages } from './audit.history.js';
import { ChainVerifier, type BrokenEvent, type IntegrityResult } from './integrity.js';

const STREAM_PAGE = 1000;
const STORE_PAGE = 1000;

/** Null when the stream has no event at all. */
export async function verifyStream(store: EventStore, stream: string): Promise<IntegrityResult | null> {
  const verifier = new ChainVerifier();
  let fromRevision = 0;
  for (;;) {
    const page = await store.readStream(stream, { fromRevision, limit: STREAM_PAGE });
    for (const event of page) verifier.push(event);
    if (page.length < STREAM_PAGE) break;
    // Continue after the last stored revision, not after a count: a gap must not be read twice.
    fromRevision = page.at(-1)!.revision + 1;
  }
  return verifier.eventsChecked === 0 ? null : verifier.result();
}

export type IntegrityProgress =
  | { readonly type: 'progress'; readonly eventsChecked: number; readonly position: string }
  | ({ readonly type: 'broken' } & BrokenEvent)
  | ({ readonly type: 'summary' } & IntegrityResult);

/**
 * Every stream, in one pass over the whole store in position order (each stream's revisions come
 * in order there). Yields progress after each page, each broken stream as found, then a summary.
 */
export async function* verifyStore(store: EventStore): AsyncGenerator<IntegrityProgress> {
  const verifier = new ChainVerifier();
  for await (const page of storePages(store, {}, undefined, STORE_PAGE)) {
    for (const event of page) {
      const broken = verifier.push(event);
      if (broken) yield { type: 'broken', ...broken };
    }
    yield { type: 'progress', eventsChecked: verifier.eventsChecked, position: page.at(-1)!.position };
  }
  yield { type: 'summary', ...verifier.result() };
}
