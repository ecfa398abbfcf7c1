import type { EventStore } from '../ports/event-store.port.js';
import { auditEventView, csvHeader, csvLine, jsonLine } from './audit-event.view.js';
import { matchesFilter, storePages, type EventFilter } from './audit.history.js';
import { ForgottenUsers } from './forgotten-users.lookup.js';

export type ExportFormat = 'jsonl' | 'csv';

/**
 * The history as text, one chunk per page of the store. A pull-based generator: the next page is
 * read only once the consumer (an HTTP reply honouring backpressure, or stdout) asked for more,
 * so memory holds one page whatever the size of the store.
 */
export async function* exportHistory(store: EventStore, filter: EventFilter, format: ExportFormat): AsyncGenerator<string> {
  const forgotten = new ForgottenUsers(store);
  if (format === 'csv') yield csvHeader();
  const line = format === 'csv' ? csvLine : jsonLine;
  for await (const page of storePages(store, filter)) {
    let chunk = '';
    for (const event of page) {
      if (!matchesFilter(event, filter)) continue;
      chunk += line(auditEventView(event, await forgotten.isShredded(event.stream)));
    }
    if (chunk.length > 0) yield chunk;
  }
}
