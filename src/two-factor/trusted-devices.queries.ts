import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Clock } from '../kernel/clock.js';
import { fold } from '../kernel/decider.js';
import { DomainError } from '../kernel/domain-error.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { PersonalDataCipher } from '../personal-data/personal-data.cipher.js';
import type { Config } from '../config/config.js';
import { CLOCK, CONFIG, EVENT_STORE, PERSONAL_DATA_CIPHER, READ_MODEL_PROGRESS } from '../ports/injection.tokens.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { DEVICE_LABEL_PURPOSE } from './two-factor.flows.js';
import { liveDevices } from './trusted-device.decisions.js';
import { userDecider, userStream } from './user.decider.js';
import type { UserEvent } from './user.events.js';
import type { TrustedDevice } from './user.state.js';

/** What the user and support see of a trusted device: never its token nor the token's hash. */
export interface TrustedDeviceView {
  readonly id: string;
  readonly label: string | null;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly expiresAt: string;
}

export interface TrustedDevicesView {
  readonly items: readonly TrustedDeviceView[];
}

export class TrustedDevicesQuery extends Query<TrustedDevicesView> {
  constructor(readonly principal: Principal, readonly userId: string, readonly minPosition: string | undefined) {
    super();
  }
}

/**
 * Read from the user's own stream rather than a read model: the list is short, it must show a
 * revocation at once (the caller just revoked a device) and it is the decider's view of which
 * devices skip the code. Expired devices are not listed: they no longer skip anything.
 */
@QueryHandler(TrustedDevicesQuery)
export class TrustedDevicesHandler implements IQueryHandler<TrustedDevicesQuery> {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(PERSONAL_DATA_CIPHER) private readonly cipher: PersonalDataCipher,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async execute(query: TrustedDevicesQuery): Promise<TrustedDevicesView> {
    if (query.principal.id !== query.userId && !hasRole(query.principal, 'support')) {
      throw new DomainError('forbidden', 'forbidden', 'Only support staff and the user may list trusted devices.');
    }
    // The stream is always current; minPosition is still honoured, as on every query (DESIGN §4).
    await awaitReadModels(this.progress, query.minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    const state = fold(userDecider, (await this.events.readStream(userStream(query.userId))) as unknown as UserEvent[]);
    if (state.status === 'unregistered') throw new DomainError('not_found', 'user_not_found', 'No user with this id is registered.');
    if (state.status === 'forgotten') throw new DomainError('gone', 'user_forgotten', 'This user has been forgotten');
    const devices = [...liveDevices(state, this.clock.now().getTime())].sort((a, b) => Date.parse(b.rememberedAt) - Date.parse(a.rememberedAt));
    return { items: await Promise.all(devices.map((device) => this.view(query.userId, device))) };
  }

  private async view(userId: string, device: TrustedDevice): Promise<TrustedDeviceView> {
    return { id: device.deviceId, label: await this.label(userId, device), createdAt: device.rememberedAt, lastUsedAt: device.lastUsedAt, expiresAt: device.expiresAt };
  }

  private async label(userId: string, device: TrustedDevice): Promise<string | null> {
    if (!device.label) return null;
    const result = await this.cipher.decrypt(userId, DEVICE_LABEL_PURPOSE, device.label);
    return result.status === 'ok' ? result.plaintext : null;
  }
}
