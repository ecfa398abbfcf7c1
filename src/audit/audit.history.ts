import type { RecordedEvent } from '../kernel/event-envelope.js';
import type { EventStore } from '../ports/event-store.port.js';

/** Filters of the global history; the store filters type and stream prefix, the rest is checked here. */
export interface EventFilter {
  readonly types?: readonly string[];
  readonly streamPrefix?: string;
  readonly actorId?: string;
  /** Inclusive bounds on metadata.occurredAt, in epoch milliseconds. */
  readonly from?: number;
  readonly to?: number;
}

export const SCAN_PAGE = 500;

export function matchesFilter(event: RecordedEvent, filter: EventFilter): boolean {
  if (filter.actorId !== undefined && event.metadata.actor.id !== filter.actorId) return false;
  if (filter.from === undefined && filter.to === undefined) return true;
  const at = Date.parse(event.metadata.occurredAt);
  return (filter.from === undefined || at >= filter.from) && (filter.to === undefined || at <= filter.to);
}

/** Pages of the store after a position, bounded in size: memory stays flat however long the history. */
export async function* storePages(store: EventStore, filter: EventFilter, after?: string, pageSize = SCAN_PAGE): AsyncGenerator<RecordedEvent[]> {
  let cursor = after;
  for (;;) {
    const page = await readPage(store, filter, cursor, pageSize);
    if (page.length === 0) return;
    yield page;
    if (page.length < pageSize) return;
    cursor = page.at(-1)!.position;
  }
}

function readPage(store: EventStore, filter: EventFilter, after: string | undefined, limit: number): Promise<RecordedEvent[]> {
  return store.readAll({
    limit,
    ...(after === undefined ? {} : { after }),
    ...(filter.types ? { types: filter.types } : {}),
    ...(filter.streamPrefix !== undefined ? { streamPrefix: filter.streamPrefix } : {}),
  });
}

export interface HistoryPage {
  readonly events: RecordedEvent[];
  /** Position to pass as `cursor` for the next page; null once the end of the history was reached. */
  readonly nextCursor: string | null;
}

/**
 * One page of matching events. Filters the store cannot apply (actor, time) may skip many events,
 * so a page also ends after `scanBudget` events examined; its cursor then resumes the scan.
 */
export async function findEvents(store: EventStore, filter: EventFilter, after: string | undefined, limit: number, scanBudget = 20 * SCAN_PAGE): Promise<HistoryPage> {
  const events: RecordedEvent[] = [];
  let examined = 0;
  let cursor = after;
  const postFiltered = filter.actorId !== undefined || filter.from !== undefined || filter.to !== undefined;
  for (;;) {
    const pageSize = postFiltered ? SCAN_PAGE : Math.min(SCAN_PAGE, limit - events.length);
    const page = await readPage(store, filter, cursor, pageSize);
    for (const event of page) {
      examined += 1;
      cursor = event.position;
      if (matchesFilter(event, filter)) events.push(event);
      if (events.length >= limit || examined >= scanBudget) return { events, nextCursor: cursor };
    }
    if (page.length < pageSize) return { events, nextCursor: null };
  }
}
