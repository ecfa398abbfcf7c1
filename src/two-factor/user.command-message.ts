import { Command } from '@nestjs/cqrs';
import type { CommandContext, CommandOutcome, CommandSource } from '../application/command-handling.js';
import type { UserCommand } from './user.commands.js';
import type { UserEvent } from './user.events.js';
import type { UserState } from './user.state.js';

/** Carries one command to a user's stream over the CommandBus. */
export class UserCommandMessage extends Command<CommandOutcome<UserEvent>> {
  constructor(
    readonly userId: string,
    readonly source: CommandSource<UserCommand, UserState>,
    readonly context: CommandContext,
  ) {
    super();
  }
}
