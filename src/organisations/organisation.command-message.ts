import { Command } from '@nestjs/cqrs';
import type { CommandContext, CommandOutcome } from '../application/command-handling.js';
import type { OrganisationCommand } from './organisation.commands.js';
import type { OrganisationEvent } from './organisation.events.js';

/** Carries one organisation command over the CommandBus to its stream. */
export class OrganisationCommandMessage extends Command<CommandOutcome<OrganisationEvent>> {
  constructor(
    readonly orgId: string,
    readonly command: OrganisationCommand,
    readonly context: CommandContext,
  ) {
    super();
  }
}
