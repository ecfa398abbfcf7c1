import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DomainError } from '../kernel/domain-error.js';
import type { EventStore } from '../ports/event-store.port.js';
import { EVENT_STORE } from '../ports/injection.tokens.js';
import { auditEventView, type AuditEventView } from './audit-event.view.js';
import { findEvents, type EventFilter } from './audit.history.js';
import { ForgottenUsers } from './forgotten-users.lookup.js';

export interface StreamHistoryView {
  readonly stream: string;
  readonly events: AuditEventView[];
  /** Revision to pass as `fromRevision` for the next page in the same direction; null at the end. */
  readonly nextRevision: number | null;
}

export interface EventsView {
  readonly events: AuditEventView[];
  readonly nextCursor: string | null;
}

export class StreamHistoryQuery extends Query<StreamHistoryView> {
  constructor(
    readonly stream: string,
    readonly direction: 'forwards' | 'backwards',
    readonly fromRevision: number | undefined,
    readonly limit: number,
  ) {
    super();
  }
}

export class EventsQuery extends Query<EventsView> {
  constructor(
    readonly filter: EventFilter,
    readonly cursor: string | undefined,
    readonly limit: number,
  ) {
    super();
  }
}

async function views(store: EventStore, events: Parameters<typeof auditEventView>[0][]): Promise<AuditEventView[]> {
  const forgotten = new ForgottenUsers(store);
  const out: AuditEventView[] = [];
  for (const event of events) out.push(auditEventView(event, await forgotten.isShredded(event.stream)));
  return out;
}

@QueryHandler(StreamHistoryQuery)
export class StreamHistoryHandler implements IQueryHandler<StreamHistoryQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute(query: StreamHistoryQuery): Promise<StreamHistoryView> {
    const events = await this.store.readStream(query.stream, {
      direction: query.direction,
      limit: query.limit,
      ...(query.fromRevision === undefined ? {} : { fromRevision: query.fromRevision }),
    });
    if (events.length === 0 && (await this.store.readStream(query.stream, { limit: 1 })).length === 0) {
      throw new DomainError('not_found', 'stream_not_found', 'No event was ever recorded in this stream.');
    }
    const last = events.at(-1);
    const next = last === undefined || events.length < query.limit ? null : last.revision + (query.direction === 'forwards' ? 1 : -1);
    return { stream: query.stream, events: await views(this.store, events), nextRevision: next !== null && next >= 0 ? next : null };
  }
}

@QueryHandler(EventsQuery)
export class EventsHandler implements IQueryHandler<EventsQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute(query: EventsQuery): Promise<EventsView> {
    const page = await findEvents(this.store, query.filter, query.cursor, query.limit);
    return { events: await views(this.store, page.events), nextCursor: page.nextCursor };
  }
}
