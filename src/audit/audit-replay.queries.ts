import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Clock } from '../kernel/clock.js';
import type { JsonValue, RecordedEvent } from '../kernel/event-envelope.js';
import { DomainError } from '../kernel/domain-error.js';
import type { EventStore } from '../ports/event-store.port.js';
import { CLOCK, EVENT_STORE } from '../ports/injection.tokens.js';
import { organisationDecider, organisationStream } from '../organisations/organisation.decider.js';
import { userDecider, userStream } from '../two-factor/user.decider.js';
import { redact } from './audit.redaction.js';
import { stateAsOf, type Replayable } from './audit.time-travel.js';
import { complianceReport, type ComplianceReport } from './compliance.report.js';
import { ForgottenUsers } from './forgotten-users.lookup.js';
import type { IntegrityResult } from './integrity.js';
import { verifyStream } from './integrity.scan.js';

export interface StateAsOfView {
  readonly stream: string;
  readonly at: string;
  readonly revision: number;
  readonly position: string;
  readonly lastEventAt: string;
  readonly eventsApplied: number;
  readonly state: JsonValue;
}

export class StateAsOfQuery extends Query<StateAsOfView> {
  constructor(
    readonly subject: 'organisation' | 'user',
    readonly id: string,
    readonly at: Date,
  ) {
    super();
  }
}

export class StreamIntegrityQuery extends Query<IntegrityResult & { stream: string }> {
  constructor(readonly stream: string) {
    super();
  }
}

export class ComplianceQuery extends Query<ComplianceReport> {
  constructor(
    readonly orgId: string,
    readonly from: Date,
    readonly to: Date,
  ) {
    super();
  }
}

@QueryHandler(StateAsOfQuery)
export class StateAsOfHandler implements IQueryHandler<StateAsOfQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute(query: StateAsOfQuery): Promise<StateAsOfView> {
    const [stream, decider] =
      query.subject === 'organisation'
        ? [organisationStream(query.id), organisationDecider as Replayable<unknown>]
        : [userStream(query.id), userDecider as Replayable<unknown>];
    const found = await stateAsOf(this.store, decider, stream, query.at);
    if (!found) throw new DomainError('not_found', 'no_state_at_instant', `Nothing had been recorded for this ${query.subject} at that instant.`);
    const shredded = await new ForgottenUsers(this.store).isShredded(stream);
    return {
      stream,
      at: query.at.toISOString(),
      revision: found.revision,
      position: found.position,
      lastEventAt: found.occurredAt,
      eventsApplied: found.eventsApplied,
      state: redact(found.state, shredded),
    };
  }
}

@QueryHandler(StreamIntegrityQuery)
export class StreamIntegrityHandler implements IQueryHandler<StreamIntegrityQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute(query: StreamIntegrityQuery): Promise<IntegrityResult & { stream: string }> {
    const result = await verifyStream(this.store, query.stream);
    if (!result) throw new DomainError('not_found', 'stream_not_found', 'No event was ever recorded in this stream.');
    return { stream: query.stream, ...result };
  }
}

@QueryHandler(ComplianceQuery)
export class ComplianceHandler implements IQueryHandler<ComplianceQuery> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(query: ComplianceQuery): Promise<ComplianceReport> {
    const orgHistory = await this.store.readStream(organisationStream(query.orgId));
    if (orgHistory.length === 0) throw new DomainError('not_found', 'organisation_not_found', 'No organisation with this id is registered.');
    const userHistories = new Map<string, RecordedEvent[]>();
    for (const event of orgHistory) {
      if (event.type !== 'MemberJoinedOrg') continue;
      const userId = String(event.data['userId']);
      if (!userHistories.has(userId)) userHistories.set(userId, await this.store.readStream(userStream(userId)));
    }
    return complianceReport(query.orgId, orgHistory, userHistories, { from: query.from, to: query.to, now: this.clock.now() });
  }
}
