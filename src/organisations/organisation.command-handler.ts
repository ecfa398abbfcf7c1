import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { handleCommand, type CommandOutcome } from '../application/command-handling.js';
import { StreamStateCache } from '../application/stream-state.cache.js';
import { DomainError, isDomainError } from '../kernel/domain-error.js';
import type { EventStore } from '../ports/event-store.port.js';
import { EVENT_STORE } from '../ports/injection.tokens.js';
import { userStream } from '../two-factor/user.decider.js';
import { OrganisationCommandMessage } from './organisation.command-message.js';
import type { OrganisationCommand } from './organisation.commands.js';
import { organisationDecider, organisationStream, type OrganisationState } from './organisation.decider.js';
import type { OrganisationEvent } from './organisation.events.js';

@CommandHandler(OrganisationCommandMessage)
export class OrganisationCommandHandler implements ICommandHandler<OrganisationCommandMessage> {
  private readonly states = new StreamStateCache<OrganisationState>();

  constructor(@Inject(EVENT_STORE) private readonly events: EventStore) {}

  async execute(message: OrganisationCommandMessage): Promise<CommandOutcome<OrganisationEvent>> {
    const { command } = message;
    return handleCommand(
      this.events,
      organisationDecider,
      organisationStream(message.orgId),
      { fromState: (state) => this.withKnownJoiner(command, state) },
      message.context,
      this.states,
    );
  }

  /**
   * Membership names a live user of this service; the user's own stream is the authority. The user is
   * looked up only once the organisation's decider would let the member join, so a caller who may
   * not manage this organisation (or names an unknown one) learns nothing about which users exist.
   */
  private async withKnownJoiner(command: OrganisationCommand, state: OrganisationState): Promise<OrganisationCommand> {
    if (command.type !== 'SetMember') return command;
    const decision = organisationDecider.decide(command, state);
    if (isDomainError(decision) || !decision.some((event) => event.type === 'MemberJoinedOrg')) return command;
    const history = await this.events.readStream(userStream(command.userId));
    if (history[0]?.type !== 'UserRegistered') {
      throw new DomainError('not_found', 'user_not_found', 'No user with this id is registered.');
    }
    // A forgotten user can no longer be reached or reminded; joining would only fake compliance data.
    if (history.some((event) => event.type === 'UserForgotten')) {
      throw new DomainError('gone', 'user_forgotten', 'This user has been forgotten.');
    }
    return command;
  }
}
