import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Config } from '../config/config.js';
import type { Clock } from '../kernel/clock.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import { DomainError } from '../kernel/domain-error.js';
import type { PersonalDataCipher } from '../personal-data/personal-data.cipher.js';
import type { ReadStore } from '../ports/read-store.port.js';
import { CLOCK, CONFIG, PERSONAL_DATA_CIPHER, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { NO_NOTICES, USERS, type NoticeSummary, type UserDoc } from '../organisations/directory.projection.js';
import { EMAIL_PURPOSE } from './two-factor.flows.js';

export interface UserView {
  readonly id: string;
  readonly email: string | null;
  readonly forgotten: boolean;
  readonly registeredAt: string;
  readonly twoFactor: UserDoc['twoFactor'] & { readonly locked: boolean };
  readonly memberships: UserDoc['memberships'];
  readonly reminders: UserDoc['reminders'];
  readonly notices: NoticeSummary;
}

export class UserViewQuery extends Query<UserView> {
  constructor(readonly principal: Principal, readonly userId: string, readonly minPosition: string | undefined) {
    super();
  }
}

/** Support staff, the platform and the user themself; nobody else learns a user exists. */
export function assertMayViewUser(principal: Principal, userId: string): void {
  if (principal.id === userId || hasRole(principal, 'support', 'platform')) return;
  throw new DomainError('forbidden', 'forbidden', 'Only support staff, the platform and the user may view this user.');
}

@QueryHandler(UserViewQuery)
export class UserViewHandler implements IQueryHandler<UserViewQuery> {
  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(PERSONAL_DATA_CIPHER) private readonly cipher: PersonalDataCipher,
  ) {}

  async execute(query: UserViewQuery): Promise<UserView> {
    assertMayViewUser(query.principal, query.userId);
    await awaitReadModels(this.progress, query.minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    const user = await this.store.get<UserDoc>(USERS, query.userId);
    if (!user) throw new DomainError('not_found', 'user_not_found', 'No user with this id is registered.');
    const lockedUntil = user.twoFactor.lockedUntil;
    return {
      id: user.id,
      email: await this.email(user),
      forgotten: user.forgotten,
      registeredAt: user.registeredAt,
      twoFactor: { ...user.twoFactor, locked: lockedUntil !== null && Date.parse(lockedUntil) > this.clock.now().getTime() },
      memberships: user.memberships,
      reminders: user.reminders,
      notices: user.notices ?? NO_NOTICES,
    };
  }

  private async email(user: UserDoc): Promise<string | null> {
    if (user.forgotten || !user.email) return null;
    const result = await this.cipher.decrypt(user.id, EMAIL_PURPOSE, user.email);
    return result.status === 'ok' ? result.plaintext : null;
  }
}
