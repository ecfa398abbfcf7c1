import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Config } from '../config/config.js';
import type { Clock } from '../kernel/clock.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import { DomainError } from '../kernel/domain-error.js';
import type { ReadStore } from '../ports/read-store.port.js';
import { CLOCK, CONFIG, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { decideEnforcement, type EnforcementDecision } from './enforcement.decision.js';
import { ENFORCEMENT, membershipKey, type EnforcementDoc } from './enforcement.projection.js';

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

@QueryHandler(EnforcementDecisionQuery)
export class EnforcementDecisionHandler implements IQueryHandler<EnforcementDecisionQuery> {
  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(query: EnforcementDecisionQuery): Promise<EnforcementDecision> {
    if (query.principal.id !== query.userId && !hasRole(query.principal, 'platform')) {
      throw new DomainError('forbidden', 'forbidden', 'Only the platform and the user themself may ask for this decision.');
    }
    await awaitReadModels(this.progress, query.minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    const doc = await this.store.get<EnforcementDoc>(ENFORCEMENT, query.userId);
    if (!doc || doc.forgotten) throw new DomainError('not_found', 'user_not_found', 'No user with this id is registered.');
    const memberships = Object.values(doc.orgs);
    if (query.orgId === null) return decideEnforcement(memberships, doc.twoFactorEnabled, this.config.ENFORCEMENT_PAGE_URL, this.clock.now());
    const membership = doc.orgs[membershipKey(query.orgId)];
    if (!membership) throw new DomainError('not_found', 'membership_not_found', 'The user is not a member of this organisation.');
    return decideEnforcement([membership], doc.twoFactorEnabled, this.config.ENFORCEMENT_PAGE_URL, this.clock.now());
  }
}
