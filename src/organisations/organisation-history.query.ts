import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Principal } from '../kernel/principal.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { ReadStore } from '../ports/read-store.port.js';
import { EVENT_STORE, READ_STORE } from '../ports/injection.tokens.js';
import { readTimeline, type TimelinePage } from '../audit/timeline.view.js';
import { organisationStream } from './organisation.decider.js';
import { loadVisibleOrganisation } from './organisation.queries.js';

/** The organisation's changes (mode, members, Xero, schedule), for those who may view the organisation. */
export class OrganisationHistoryQuery extends Query<TimelinePage> {
  constructor(readonly principal: Principal, readonly orgId: string, readonly cursor: string | null, readonly limit: number) {
    super();
  }
}

@QueryHandler(OrganisationHistoryQuery)
export class OrganisationHistoryHandler implements IQueryHandler<OrganisationHistoryQuery> {
  constructor(
    @Inject(READ_STORE) private readonly readStore: ReadStore,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute(query: OrganisationHistoryQuery): Promise<TimelinePage> {
    const org = await loadVisibleOrganisation(this.readStore, query.principal, query.orgId);
    return readTimeline(this.store, organisationStream(org.id), query.cursor, query.limit);
  }
}
