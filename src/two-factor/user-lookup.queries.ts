import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Config } from '../config/config.js';
import { fold } from '../kernel/decider.js';
import { DomainError } from '../kernel/domain-error.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { PersonalDataCipher } from '../personal-data/personal-data.cipher.js';
import type { ReadStore } from '../ports/read-store.port.js';
import { CONFIG, EVENT_STORE, PERSONAL_DATA_CIPHER, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { readTimeline, type TimelinePage } from '../audit/timeline.view.js';
import { USERS, type UserDoc } from '../organisations/directory.projection.js';
import { emailClaimDecider, emailClaimStream, normaliseEmail, type EmailClaimEvent } from './email-claim.decider.js';
import { EMAIL_PURPOSE } from './two-factor.flows.js';
import { assertMayViewUser } from './user.queries.js';
import { userStream } from './user.decider.js';

export interface UserLookup {
  /** The live user holding the address: none, or exactly one (one live user per address). */
  readonly items: ReadonlyArray<{ readonly id: string }>;
}

/**
 * Support's search by e-mail. It goes through the keyed blind index (the claim stream of the
 * address), never through a scan of decrypted addresses: the store is asked for one stream.
 */
export class UserByEmailQuery extends Query<UserLookup> {
  constructor(readonly principal: Principal, readonly email: string, readonly minPosition: string | undefined) {
    super();
  }
}

/** What happened to a user's account (registration, factor, lockouts, resets, reminders), newest first. */
export class UserTimelineQuery extends Query<TimelinePage> {
  constructor(readonly principal: Principal, readonly userId: string, readonly cursor: string | null, readonly limit: number, readonly minPosition: string | undefined = undefined) {
    super();
  }
}

/** The same callers who may view any user (user.queries.ts), without "the user themself": an address names nobody yet. */
export function assertMayLookUp(principal: Principal): void {
  if (hasRole(principal, 'support', 'platform')) return;
  throw new DomainError('forbidden', 'forbidden', 'Only support staff and the platform may look users up.');
}

@QueryHandler(UserByEmailQuery)
export class UserByEmailHandler implements IQueryHandler<UserByEmailQuery> {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(PERSONAL_DATA_CIPHER) private readonly cipher: PersonalDataCipher,
  ) {}

  async execute(query: UserByEmailQuery): Promise<UserLookup> {
    assertMayLookUp(query.principal);
    await awaitReadModels(this.progress, query.minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    const stream = emailClaimStream(this.cipher.blindIndex(EMAIL_PURPOSE, normaliseEmail(query.email)));
    const claim = fold(emailClaimDecider, (await this.events.readStream(stream)) as unknown as EmailClaimEvent[]);
    if (!claim.holder) return { items: [] };
    // A claim whose registration never completed, or whose user was forgotten, names no live user.
    const user = await this.store.get<UserDoc>(USERS, claim.holder.userId);
    return { items: user && !user.forgotten ? [{ id: user.id }] : [] };
  }
}

@QueryHandler(UserTimelineQuery)
export class UserTimelineHandler implements IQueryHandler<UserTimelineQuery> {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async execute(query: UserTimelineQuery): Promise<TimelinePage> {
    assertMayViewUser(query.principal, query.userId);
    await awaitReadModels(this.progress, query.minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    if (!(await this.store.get<UserDoc>(USERS, query.userId))) throw new DomainError('not_found', 'user_not_found', 'No user with this id is registered.');
    return readTimeline(this.events, userStream(query.userId), query.cursor, query.limit);
  }
}
