import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Config } from '../config/config.js';
import type { Clock } from '../kernel/clock.js';
import { DomainError } from '../kernel/domain-error.js';
import { positionFromSortKey, START_POSITION } from '../kernel/position.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import type { ReadStore } from '../ports/read-store.port.js';
import { CLOCK, CONFIG, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { hostDocument, type HostDecisionDocument } from './enforcement.host-document.js';
import { changedAtOf, ENFORCEMENT, type EnforcementDoc } from './enforcement.projection.js';

/** One user's decision document as the change feed would send it: how a host cache loads a user it has not seen. */
export class EnforcementDocumentQuery extends Query<HostDecisionDocument> {
  constructor(
    readonly principal: Principal,
    readonly userId: string,
    readonly minPosition: string | undefined,
  ) {
    super();
  }
}

@QueryHandler(EnforcementDocumentQuery)
export class EnforcementDocumentHandler implements IQueryHandler<EnforcementDocumentQuery> {
  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(query: EnforcementDocumentQuery): Promise<HostDecisionDocument> {
    if (!hasRole(query.principal, 'platform')) throw new DomainError('forbidden', 'forbidden', 'Only the platform may load decision documents.');
    await awaitReadModels(this.progress, query.minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    const doc = await this.store.get<EnforcementDoc>(ENFORCEMENT, query.userId);
    // A document the feed has never stamped (written before it existed, or none yet) is older than any change it will send.
    const changedAt = doc ? changedAtOf(doc) : null;
    const position = changedAt ? positionFromSortKey(changedAt) : START_POSITION;
    return hostDocument(query.userId, doc, position, this.config.ENFORCEMENT_PAGE_URL, this.clock.now());
  }
}
