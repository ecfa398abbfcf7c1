import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Config } from '../config/config.js';
import type { Clock } from '../kernel/clock.js';
import { DomainError } from '../kernel/domain-error.js';
import type { Principal } from '../kernel/principal.js';
import { InvalidCursorError, type ReadStore } from '../ports/read-store.port.js';
import { CLOCK, CONFIG, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { ORG_MEMBERS, type MemberDoc } from '../organisations/directory.projection.js';
import { loadVisibleOrganisation } from '../organisations/organisation.queries.js';
import type { Mode } from './enforcement.decision.js';
import { countOutcome, emptyCounts, previewOutcome, type PreviewCounts, type PreviewMember, type ProposedPolicy } from './enforcement.preview.js';

export interface PreviewItem {
  readonly userId: string;
  readonly outcome: 'prompt' | 'redirect' | 'exempt';
  readonly exemptUntil: string | null;
}

export interface EnforcementPreview {
  readonly orgId: string;
  readonly mode: Mode;
  readonly hardFrom: string | null;
  /** The instant the answer describes: now. */
  readonly at: string;
  readonly counts: PreviewCounts;
  /** With `hardFrom`: the same counts under `hard` at that instant (exemptions ended by then no longer count). */
  readonly atHardFrom: PreviewCounts | null;
  /** Members who would be prompted or redirected, or are spared by an exemption, by user id. */
  readonly items: readonly PreviewItem[];
  readonly nextCursor: string | null;
}

export class EnforcementPreviewQuery extends Query<EnforcementPreview> {
  constructor(
    readonly principal: Principal,
    readonly orgId: string,
    readonly mode: Mode,
    readonly hardFrom: Date | null,
    readonly cursor: string | null,
    readonly limit: number,
    readonly minPosition: string | undefined,
  ) {
    super();
  }
}

const SCAN_PAGE = 1000;

/**
 * The dry run. Reads the directory's members and applies the enforcement decision to each under
 * the proposed mode; it writes nothing (no command, no read-model write), so it can be asked freely.
 */
@QueryHandler(EnforcementPreviewQuery)
export class EnforcementPreviewHandler implements IQueryHandler<EnforcementPreviewQuery> {
  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(query: EnforcementPreviewQuery): Promise<EnforcementPreview> {
    await awaitReadModels(this.progress, query.minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    const org = await loadVisibleOrganisation(this.store, query.principal, query.orgId);
    const now = this.clock.now();
    refuseImpossible(query, org.xeroConnected, now);
    const after = query.cursor === null ? null : decodeCursor(query.cursor);
    const policy: ProposedPolicy = { orgId: org.id, mode: query.mode, xeroConnected: org.xeroConnected, graceDays: org.graceDays ?? 0 };
    const hardPolicy: ProposedPolicy = { ...policy, mode: 'hard' };
    let counts = emptyCounts();
    let atHardFrom = query.hardFrom ? emptyCounts() : null;
    const affected: PreviewItem[] = [];
    for await (const member of this.members(org.id)) {
      const outcome = previewOutcome(policy, member, now);
      counts = countOutcome(counts, outcome);
      if (atHardFrom && query.hardFrom) atHardFrom = countOutcome(atHardFrom, previewOutcome(hardPolicy, member, query.hardFrom));
      if ((outcome === 'prompt' || outcome === 'redirect' || outcome === 'exempt') && (after === null || member.userId > after)) {
        affected.push({ userId: member.userId, outcome, exemptUntil: outcome === 'exempt' ? member.exemptUntil : null });
      }
    }
    affected.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
    const items = affected.slice(0, query.limit);
    const nextCursor = affected.length > query.limit ? encodeCursor(items.at(-1)!.userId) : null;
    return { orgId: org.id, mode: query.mode, hardFrom: query.hardFrom?.toISOString() ?? null, at: now.toISOString(), counts, atHardFrom, items, nextCursor };
  }

  /** Forgotten members can no longer sign in: no decision applies to them. */
  private async *members(orgId: string): AsyncGenerator<PreviewMember> {
    let cursor: string | null = null;
    do {
      const page: { items: MemberDoc[]; nextCursor: string | null } = await this.store.find<MemberDoc>(ORG_MEMBERS, { orgId }, { limit: SCAN_PAGE, ...(cursor ? { cursor } : {}) });
      for (const m of page.items) {
        if (!m.forgotten) yield { userId: m.userId, twoFactorEnabled: m.twoFactorEnabled, exemptUntil: m.exemption?.until ?? null, graceFrom: m.graceFrom ?? null };
      }
      cursor = page.nextCursor;
    } while (cursor);
  }
}

/** The same rules the command would apply: Xero never allows `off`, a schedule is future and only with `soft`. */
function refuseImpossible(query: EnforcementPreviewQuery, xeroConnected: boolean, now: Date): void {
  if (query.mode === 'off' && xeroConnected) {
    throw new DomainError('conflict', 'xero_requires_enforcement', 'Two-factor enforcement cannot be turned off while the organisation is connected to Xero');
  }
  if (query.hardFrom === null) return;
  if (query.mode !== 'soft') throw new DomainError('invalid', 'hard_from_requires_soft', '`hardFrom` may only be given with mode `soft`');
  if (query.hardFrom.getTime() <= now.getTime()) throw new DomainError('invalid', 'hard_from_not_in_future', '`hardFrom` must lie in the future');
}

function encodeCursor(userId: string): string {
  return Buffer.from(JSON.stringify({ after: userId }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const after = (parsed as { after?: unknown } | null)?.after;
    if (typeof after === 'string' && after.length > 0 && after.length <= 128) return after;
  } catch {
    // fall through: any undecodable cursor is the caller's error
  }
  throw new InvalidCursorError();
}
