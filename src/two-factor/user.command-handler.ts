import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { fold } from '../kernel/decider.js';
import { handleCommand, type CommandOutcome } from '../application/command-handling.js';
import { StreamStateCache } from '../application/stream-state.cache.js';
import type { UserState } from './user.state.js';
import { isDomainError } from '../kernel/domain-error.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { PersonalDataCipher } from '../personal-data/personal-data.cipher.js';
import { EVENT_STORE, PERSONAL_DATA_CIPHER } from '../ports/injection.tokens.js';
import { UserCommandMessage } from './user.command-message.js';
import { userDecider, userStream } from './user.decider.js';
import type { UserEvent } from './user.events.js';

@CommandHandler(UserCommandMessage)
export class UserCommandHandler implements ICommandHandler<UserCommandMessage> {
  private readonly states = new StreamStateCache<UserState>();

  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(PERSONAL_DATA_CIPHER) private readonly cipher: PersonalDataCipher,
  ) {}

  // Commands on one user's stream run one at a time in this process (application/stream-command.queue.ts).
  async execute(message: UserCommandMessage): Promise<CommandOutcome<UserEvent>> {
    const stream = userStream(message.userId);
    if ('type' in message.source && message.source.type === 'ForgetUser') await this.shredIfAllowed(message);
    return handleCommand(this.events, userDecider, stream, message.source, message.context, this.states);
  }

  /**
   * The data key goes before UserForgotten is recorded: if recording then fails, the user's data is
   * already unreadable and a retry records the event; the reverse order could leave a "forgotten"
   * user whose secrets are still readable.
   */
  private async shredIfAllowed(message: UserCommandMessage): Promise<void> {
    const history = await this.events.readStream(userStream(message.userId));
    const state = fold(userDecider, history as unknown as UserEvent[]);
    if ('type' in message.source && !isDomainError(userDecider.decide(message.source, state))) {
      await this.cipher.forget(message.userId);
    }
  }
}
