import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Config } from '../config/config.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import { DomainError } from '../kernel/domain-error.js';
import type { Filter, ReadStore } from '../ports/read-store.port.js';
import type { Clock } from '../kernel/clock.js';
import { CLOCK, CONFIG, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { orgMemberId } from '../projections/org-member.index.js';
import { ORG_MEMBERS, ORGANISATIONS, TWO_FACTOR_STATUSES, type MemberDoc, type OrganisationDoc } from './directory.projection.js';

export interface OrganisationView {
  readonly id: string;
  readonly name: string;
  readonly mode: string;
  readonly xeroConnected: boolean;
  readonly tenantId: string | null;
  readonly registeredAt: string;
  readonly modeLastChanged: { readonly at: string; readonly by: string; readonly reason: string | null } | null;
  readonly members: { readonly total: number; readonly withTwoFactor: number; readonly withoutTwoFactor: number };
  /** When a soft organisation becomes hard by itself, if scheduled. */
  readonly hardFrom: string | null;
  readonly graceDays: number;
}

export interface MemberView {
  readonly userId: string;
  readonly role: string;
  readonly joinedAt: string;
  readonly forgotten: boolean;
  readonly twoFactor: MemberDoc['twoFactor'];
  readonly exemption: { readonly reason: string; readonly until: string } | null;
  /** When the member was last reminded (null: never, or projected before this was kept). */
  readonly lastReminderAt: string | null;
}

/**
 * Filter values are the member's two-factor status (`none`, `pending`, `enabled`); `disabled` is the
 * deprecated spelling of earlier versions and keeps its meaning: every member without 2FA enabled.
 */
export const MEMBER_TWO_FACTOR_FILTERS = [...TWO_FACTOR_STATUSES, 'disabled'] as const;
export type MemberTwoFactorFilter = (typeof MEMBER_TWO_FACTOR_FILTERS)[number];

export interface MembersPage {
  readonly items: MemberView[];
  readonly nextCursor: string | null;
}

export class OrganisationViewQuery extends Query<OrganisationView> {
  constructor(readonly principal: Principal, readonly orgId: string, readonly minPosition: string | undefined) {
    super();
  }
}

export class OrganisationMembersQuery extends Query<MembersPage> {
  constructor(
    readonly principal: Principal,
    readonly orgId: string,
    readonly minPosition: string | undefined,
    readonly twoFactor: MemberTwoFactorFilter | null,
    readonly cursor: string | null,
    readonly limit: number,
    /** true: exempt members only; false: members not exempt; null: all. */
    readonly exempt: boolean | null = null,
    /** Only members whose verification is locked out now. */
    readonly locked: boolean = false,
  ) {
    super();
  }
}

/** Compliance views are for support, the platform and the organisation's own admins. */
export async function loadVisibleOrganisation(store: ReadStore, principal: Principal, orgId: string): Promise<OrganisationDoc> {
  const staff = hasRole(principal, 'support', 'platform');
  if (!staff) {
    const membership = await store.get<MemberDoc>(ORG_MEMBERS, orgMemberId(orgId, principal.id));
    if (membership?.role !== 'admin') throw new DomainError('forbidden', 'forbidden', 'Only support staff, the platform and this organisation\'s admins may view it.');
  }
  const org = await store.get<OrganisationDoc>(ORGANISATIONS, orgId);
  if (!org) throw new DomainError('not_found', 'organisation_not_found', 'No organisation with this id is registered.');
  return org;
}

@QueryHandler(OrganisationViewQuery)
export class OrganisationViewHandler implements IQueryHandler<OrganisationViewQuery> {
  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async execute(query: OrganisationViewQuery): Promise<OrganisationView> {
    await awaitReadModels(this.progress, query.minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    const org = await loadVisibleOrganisation(this.store, query.principal, query.orgId);
    const [total, withTwoFactor] = await Promise.all([
      this.store.count(ORG_MEMBERS, { orgId: org.id }),
      this.store.count(ORG_MEMBERS, { orgId: org.id, twoFactorEnabled: true }),
    ]);
    return {
      id: org.id,
      name: org.name,
      mode: org.mode,
      xeroConnected: org.xeroConnected,
      tenantId: org.tenantId,
      registeredAt: org.registeredAt,
      modeLastChanged: org.modeChangedAt && org.modeChangedBy ? { at: org.modeChangedAt, by: org.modeChangedBy, reason: org.modeChangeReason } : null,
      members: { total, withTwoFactor, withoutTwoFactor: total - withTwoFactor },
      hardFrom: org.hardFrom ?? null,
      graceDays: org.graceDays ?? 0,
    };
  }
}

function membersFilter(orgId: string, twoFactor: MemberTwoFactorFilter | null, exempt: boolean | null, lockedAfter: string | null): Filter {
  const base = twoFactorFilter(orgId, twoFactor);
  // ISO instants compare as strings; the index (orgId, twoFactor.lockedUntil) serves the range.
  const filter = lockedAfter === null ? base : { ...base, 'twoFactor.lockedUntil': { $gt: lockedAfter } };
  if (exempt === null) return filter;
  // `$ne: true` also matches members projected before exemptions existed (no `exempt` field).
  return { ...filter, exempt: exempt ? true : { $ne: true } };
}

function twoFactorFilter(orgId: string, twoFactor: MemberTwoFactorFilter | null): Filter {
  switch (twoFactor) {
    case null:
      return { orgId };
    case 'enabled':
      return { orgId, twoFactorEnabled: true };
    case 'disabled':
      return { orgId, twoFactorEnabled: false };
    default:
      return { orgId, 'twoFactor.status': twoFactor };
  }
}

@QueryHandler(OrganisationMembersQuery)
export class OrganisationMembersHandler implements IQueryHandler<OrganisationMembersQuery> {
  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(query: OrganisationMembersQuery): Promise<MembersPage> {
    await awaitReadModels(this.progress, query.minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    await loadVisibleOrganisation(this.store, query.principal, query.orgId);
    const page = await this.store.find<MemberDoc>(ORG_MEMBERS, membersFilter(query.orgId, query.twoFactor, query.exempt, query.locked ? this.clock.now().toISOString() : null), { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) });
    return {
      items: page.items.map((m) => ({ userId: m.userId, role: m.role, joinedAt: m.joinedAt, forgotten: m.forgotten, twoFactor: m.twoFactor, exemption: exemptionView(m), lastReminderAt: m.lastReminderAt ?? null })),
      nextCursor: page.nextCursor,
    };
  }
}

function exemptionView(member: MemberDoc): MemberView['exemption'] {
  return member.exemption ? { reason: member.exemption.reason, until: member.exemption.until } : null;
}
