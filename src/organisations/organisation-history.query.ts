import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Principal } from '../kernel/principal.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { ReadStore } from '../ports/read-store.port.js';
import type { Config } from '../config/config.js';
import { CONFIG, EVENT_STORE, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { readTimeline, type TimelinePage } from '../audit/timeline.view.js';
import { organisationStream } from './organisation.decider.js';
import { loadVisibleOrganisation } from './organisation.queries.js';

/** The organisation's changes (mode, members, Xero, schedule), for those who may view the organisation. */
export class OrganisationHistoryQuery extends Query<TimelinePage> {
  constructor(readonly principal: Principal, readonly orgId: string, readonly cursor: string | null, readonly limit: number, readonly minPosition: string | undefined = undefined) {
    super();
  }
}

@QueryHandler(OrganisationHistoryQuery)
export class OrganisationHistoryHandler implements IQueryHandler<OrganisationHistoryQuery> {
  constructor(
    @Inject(READ_STORE) private readonly readStore: ReadStore,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async execute(query: OrganisationHistoryQuery): Promise<TimelinePage> {
    await awaitReadModels(this.progress, query.minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    const org = await loadVisibleOrganisation(this.readStore, query.principal, query.orgId);
    return readTimeline(this.store, organisationStream(org.id), query.cursor, query.limit);
  }
}
