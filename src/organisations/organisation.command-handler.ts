import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { handleCommand, type CommandOutcome } from '../application/command-handling.js';
import { StreamStateCache } from '../application/stream-state.cache.js';
import { DomainError, isDomainError } from '../kernel/domain-error.js';
import type { EventStore } from '../ports/event-store.port.js';
import { EVENT_STORE } from '../ports/injection.tokens.js';
import { userStream } from '../two-factor/user.decider.js';
import { OrganisationCommandMessage } from './organisation.command-message.js';
import type { OrganisationCommand, SyncMembers } from './organisation.commands.js';
import { MAX_SYNCED_MEMBERS, mayAddMembers, organisationDecider, organisationStream, type OrganisationState } from './organisation.decider.js';
import type { OrganisationEvent } from './organisation.events.js';

type UserStanding = 'registered' | 'unregistered' | 'forgotten';

/** User streams read at once while checking a membership list. */
const LOOKUP_CONCURRENCY = 16;

@CommandHandler(OrganisationCommandMessage)
export class OrganisationCommandHandler implements ICommandHandler<OrganisationCommandMessage> {
  private readonly states = new StreamStateCache<OrganisationState>();

  constructor(@Inject(EVENT_STORE) private readonly events: EventStore) {}

  async execute(message: OrganisationCommandMessage): Promise<CommandOutcome<OrganisationEvent>> {
    // A list's users are looked up before the command queues behind others on the stream, so a
    // large sync does not hold them up while it reads user streams.
    const command = message.command.type === 'SyncMembers' ? await this.withListedUsers(message.command) : message.command;
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
   * looked up only once the organisation's decider would let the member join, which only the platform
   * may do, so nobody else learns which users exist.
   */
  private async withKnownJoiner(command: OrganisationCommand, state: OrganisationState): Promise<OrganisationCommand> {
    if (command.type !== 'SetMember') return command;
    const decision = organisationDecider.decide(command, state);
    if (isDomainError(decision) || !decision.some((event) => event.type === 'MemberJoinedOrg')) return command;
    const standing = await this.standingOf(command.userId);
    if (standing === 'unregistered') throw new DomainError('not_found', 'user_not_found', 'No user with this id is registered.');
    // A forgotten user can no longer be reached or reminded; joining would only fake compliance data.
    if (standing === 'forgotten') throw new DomainError('gone', 'user_forgotten', 'This user has been forgotten.');
    return command;
  }

  /** Every listed user's standing, for the platform only: anyone else is refused before users are looked at. */
  private async withListedUsers(command: SyncMembers): Promise<SyncMembers> {
    if (!mayAddMembers(command.actor) || !Array.isArray(command.members) || command.members.length > MAX_SYNCED_MEMBERS) return command;
    const userIds = command.members.map((member) => member.userId);
    const standings = await this.standingsOf(userIds);
    return {
      ...command,
      unregisteredUserIds: userIds.filter((_, i) => standings[i] === 'unregistered'),
      forgottenUserIds: userIds.filter((_, i) => standings[i] === 'forgotten'),
    };
  }

  private async standingsOf(userIds: readonly string[]): Promise<UserStanding[]> {
    const standings: UserStanding[] = new Array(userIds.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < userIds.length; i = next++) standings[i] = await this.standingOf(userIds[i]!);
    };
    await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, userIds.length) }, worker));
    return standings;
  }

  /**
   * The user decider records nothing before UserRegistered and nothing after UserForgotten, so the
   * stream's last event answers. One row, not the whole history: a user's stream grows with every
   * sign-in, and every join and list sync would otherwise read it all.
   */
  private async standingOf(userId: string): Promise<UserStanding> {
    const [last] = await this.events.readStream(userStream(userId), { direction: 'backwards', limit: 1 });
    if (last === undefined) return 'unregistered';
    return last.type === 'UserForgotten' ? 'forgotten' : 'registered';
  }
}
