import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { handleCommand, type CommandOutcome } from '../kernel/command-handling.js';
import { DomainError } from '../kernel/domain-error.js';
import type { EventStore } from '../infrastructure/event-store/event-store.port.js';
import { EVENT_STORE } from '../infrastructure/runtime.tokens.js';
import { userStream } from '../two-factor/user.decider.js';
import { OrganisationCommandMessage } from './organisation.command-message.js';
import { organisationDecider, organisationStream } from './organisation.decider.js';
import type { OrganisationEvent } from './organisation.events.js';

@CommandHandler(OrganisationCommandMessage)
export class OrganisationCommandHandler implements ICommandHandler<OrganisationCommandMessage> {
  constructor(@Inject(EVENT_STORE) private readonly events: EventStore) {}

  async execute(message: OrganisationCommandMessage): Promise<CommandOutcome<OrganisationEvent>> {
    if (message.command.type === 'SetMember') await this.requireRegisteredUser(message.command.userId);
    return handleCommand(this.events, organisationDecider, organisationStream(message.orgId), message.command, message.context);
  }

  /** Membership names a user of this service; the user's own stream is the authority. */
  private async requireRegisteredUser(userId: string): Promise<void> {
    const first = await this.events.readStream(userStream(userId), { limit: 1 });
    if (first[0]?.type !== 'UserRegistered') {
      throw new DomainError('not_found', 'user_not_found', 'No user with this id is registered.');
    }
  }
}
