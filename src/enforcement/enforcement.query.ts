import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Config } from '../config/config.js';
import type { Clock } from '../kernel/clock.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import { DomainError } from '../kernel/domain-error.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { decideEnforcement, type EnforcementDecision } from './enforcement.decision.js';
import { membershipKey, type EnforcementDoc } from './enforcement.projection.js';

export class EnforcementDecisionQuery extends Query<EnforcementDecision> {
  constructor(
    readonly principal: Principal,
    readonly userId: string,
    readonly orgId: string | null,
    readonly minPosition: string | undefined,
  ) {
    super();
  }
}

/** Where the decision reads a user's enforcement document: the read store, or a cache in front of it. */
export interface EnforcementDocs {
  get(userId: string): Promise<EnforcementDoc | null>;
}

/**
 * The decision for one user, as the hot route and the pages ask for it. A plain class rather than
 * only a query handler: the hot route calls it directly, without the query bus.
 */
export class EnforcementDecisions {
  constructor(
    private readonly docs: EnforcementDocs,
    private readonly progress: ReadModelProgress,
    private readonly config: Config,
    private readonly clock: Clock,
  ) {}

  async decide(principal: Principal, userId: string, orgId: string | null, minPosition: string | undefined): Promise<EnforcementDecision> {
    if (principal.id !== userId && !hasRole(principal, 'platform')) {
      throw new DomainError('forbidden', 'forbidden', 'Only the platform and the user themself may ask for this decision.');
    }
    if (minPosition !== undefined) await awaitReadModels(this.progress, minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    const doc = await this.docs.get(userId);
    if (!doc || doc.forgotten) throw new DomainError('not_found', 'user_not_found', 'No user with this id is registered.');
    if (orgId === null) return decideEnforcement(Object.values(doc.orgs), doc.twoFactorEnabled, this.config.ENFORCEMENT_PAGE_URL, this.clock.now());
    const membership = doc.orgs[membershipKey(orgId)];
    if (!membership) throw new DomainError('not_found', 'membership_not_found', 'The user is not a member of this organisation.');
    return decideEnforcement([membership], doc.twoFactorEnabled, this.config.ENFORCEMENT_PAGE_URL, this.clock.now());
  }
}

@QueryHandler(EnforcementDecisionQuery)
export class EnforcementDecisionHandler implements IQueryHandler<EnforcementDecisionQuery> {
  constructor(@Inject(EnforcementDecisions) private readonly decisions: EnforcementDecisions) {}

  execute(query: EnforcementDecisionQuery): Promise<EnforcementDecision> {
    return this.decisions.decide(query.principal, query.userId, query.orgId, query.minPosition);
  }
}
