import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Clock } from '../kernel/clock.js';
import type { Config } from '../config/config.js';
import { DomainError } from '../kernel/domain-error.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import type { ReadStore } from '../ports/read-store.port.js';
import { CLOCK, CONFIG, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { RESET_REQUESTS, type ResetRequestDoc } from './reset-requests.projection.js';

export interface ResetRequestView {
  readonly requestId: string;
  readonly userId: string;
  readonly requestedBy: string;
  readonly reason: string;
  readonly requestedAt: string;
  readonly expiresAt: string;
}

export interface ResetRequestsPage {
  readonly items: ResetRequestView[];
  readonly nextCursor: string | null;
}

/** Two-person resets waiting for a second support agent (RESET_REQUIRES_APPROVAL), soonest to expire first. */
export class PendingResetRequestsQuery extends Query<ResetRequestsPage> {
  constructor(readonly principal: Principal, readonly cursor: string | undefined, readonly limit: number, readonly minPosition: string | undefined) {
    super();
  }
}

/** Only support approves a reset, so only support needs to see what waits for approval. */
export function assertMaySeeResetRequests(principal: Principal): void {
  if (hasRole(principal, 'support')) return;
  throw new DomainError('forbidden', 'forbidden', 'Only support staff may list reset requests.');
}

@QueryHandler(PendingResetRequestsQuery)
export class PendingResetRequestsHandler implements IQueryHandler<PendingResetRequestsQuery> {
  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(query: PendingResetRequestsQuery): Promise<ResetRequestsPage> {
    assertMaySeeResetRequests(query.principal);
    await awaitReadModels(this.progress, query.minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    // Expiry is decided by time, not by an event: a request past its expiry is no longer pending.
    const filter = { status: 'pending', expiresAt: { $gt: this.clock.now().toISOString() } };
    const page = await this.store.find<ResetRequestDoc>(RESET_REQUESTS, filter, { sort: [['expiresAt', 1]], limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) });
    return {
      items: page.items.map((doc) => ({ requestId: doc.id, userId: doc.userId, requestedBy: doc.requestedBy, reason: doc.reason, requestedAt: doc.requestedAt, expiresAt: doc.expiresAt })),
      nextCursor: page.nextCursor,
    };
  }
}
