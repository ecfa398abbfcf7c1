import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Config } from '../config/config.js';
import type { Clock } from '../kernel/clock.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import { DomainError } from '../kernel/domain-error.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { decideEnforcement, type EnforcementDecision } from './enforcement.decision.js';
import { nextPolicyChange } from './enforcement.deadline.js';
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
  /** The document when it is at hand in this process (a cache), without waiting; else undefined. */
  peek?(userId: string): EnforcementDoc | undefined;
}

/** A decision computed from one document, valid from `from` until `until` (epoch ms). */
interface Memo {
  readonly decision: EnforcementDecision;
  readonly from: number;
  readonly until: number;
}

/**
 * The decision for one user, as the hot route and the pages ask for it. A plain class rather than
 * only a query handler: the hot route calls it directly, without the query bus.
 */
export class EnforcementDecisions {
  /**
   * The decision without `orgId` per cached document object: a document changes by being replaced
   * (the cache drops it on the projection's change notice), so a memo keyed by it cannot outlive
   * the document it was computed from, and lives no longer than the document does in the cache.
   */
  private readonly memos = new WeakMap<EnforcementDoc, Memo>();

  constructor(
    private readonly docs: EnforcementDocs,
    private readonly progress: ReadModelProgress,
    private readonly config: Config,
    private readonly clock: Clock,
  ) {}

  async decide(principal: Principal, userId: string, orgId: string | null, minPosition: string | undefined): Promise<EnforcementDecision> {
    authorize(principal, userId);
    if (minPosition !== undefined) await awaitReadModels(this.progress, minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    return this.decideFor(await this.docs.get(userId), orgId, false);
  }

  /**
   * The hot path's common case (no `orgId`, no `minPosition`) answered without waiting when the
   * user's document is at hand; undefined when it is not (then `decide`). Same rules as `decide`.
   */
  decideAtHand(principal: Principal, userId: string): EnforcementDecision | undefined {
    authorize(principal, userId);
    const doc = this.docs.peek?.(userId);
    return doc === undefined ? undefined : this.decideFor(doc, null, true);
  }

  /** `kept`: the document stays in memory (a cache entry), so a memo of its decision is worth keeping. */
  private decideFor(doc: EnforcementDoc | null, orgId: string | null, kept: boolean): EnforcementDecision {
    if (!doc || doc.forgotten) throw new DomainError('not_found', 'user_not_found', 'No user with this id is registered.');
    if (orgId === null && kept) return this.memoized(doc, this.clock.now());
    if (orgId === null) return decideEnforcement(Object.values(doc.orgs), doc.twoFactorEnabled, this.config.ENFORCEMENT_PAGE_URL, this.clock.now());
    const membership = doc.orgs[membershipKey(orgId)];
    if (!membership) throw new DomainError('not_found', 'membership_not_found', 'The user is not a member of this organisation.');
    return decideEnforcement([membership], doc.twoFactorEnabled, this.config.ENFORCEMENT_PAGE_URL, this.clock.now());
  }

  /** Recomputed only once time passes an instant at which the answer may change (or goes back). */
  private memoized(doc: EnforcementDoc, now: Date): EnforcementDecision {
    const at = now.getTime();
    const memo = this.memos.get(doc);
    if (memo !== undefined && memo.from <= at && at < memo.until) return memo.decision;
    const memberships = Object.values(doc.orgs);
    const decision = decideEnforcement(memberships, doc.twoFactorEnabled, this.config.ENFORCEMENT_PAGE_URL, now);
    this.memos.set(doc, { decision, from: at, until: nextPolicyChange(memberships, at) });
    return decision;
  }
}

function authorize(principal: Principal, userId: string): void {
  if (principal.id !== userId && !hasRole(principal, 'platform')) {
    throw new DomainError('forbidden', 'forbidden', 'Only the platform and the user themself may ask for this decision.');
  }
}

@QueryHandler(EnforcementDecisionQuery)
export class EnforcementDecisionHandler implements IQueryHandler<EnforcementDecisionQuery> {
  constructor(@Inject(EnforcementDecisions) private readonly decisions: EnforcementDecisions) {}

  execute(query: EnforcementDecisionQuery): Promise<EnforcementDecision> {
    return this.decisions.decide(query.principal, query.userId, query.orgId, query.minPosition);
  }
}
