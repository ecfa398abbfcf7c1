import { Body, Controller, Delete, Inject, Param, Put, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../kernel/clock.js';
import { CLOCK } from '../ports/injection.tokens.js';
import { CurrentPrincipal } from '../http/current-principal.decorator.js';
import { commandAnswer, commandContext, type CommandAnswer } from '../http/command-context.js';
import { idField } from '../http/id-param.js';
import type { Principal } from '../kernel/principal.js';
import { parseInput } from '../http/validation.js';
import type { OrganisationCommand } from './organisation.commands.js';
import { OrganisationCommandMessage } from './organisation.command-message.js';

const exemptionPath = z.object({ orgId: idField, userId: idField });
const exemptBody = z
  .object({
    reason: z.string().trim().min(1).max(500).meta({ description: 'Why the member is exempt (written by staff; shown to admins and auditors).' }),
    until: z.string().min(1).max(64).meta({ format: 'date-time', description: 'When the exemption ends: after now, at most 90 days ahead.' }),
  })
  .strict();
const endExemptionBody = z.object({ reason: z.string().trim().max(500).optional() }).strict().optional();

/** Exemptions of one member from one organisation's enforcement (support, or an admin of the organisation). */
@ApiTags('organisations')
@Controller('v1/organisations')
export class ExemptionsController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Put(':orgId/members/:userId/exemption')
  async exempt(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer> {
    const { orgId, userId } = parseInput(exemptionPath, params, 'path');
    const { reason, until } = parseInput(exemptBody, body, 'body');
    return this.send(request, principal, orgId, (actor, now) => ({ type: 'ExemptMember', userId, reason, until, now, actor }));
  }

  @Delete(':orgId/members/:userId/exemption')
  async end(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer> {
    const { orgId, userId } = parseInput(exemptionPath, params, 'path');
    const input = parseInput(endExemptionBody, body ?? undefined, 'body');
    return this.send(request, principal, orgId, (actor) => ({ type: 'EndExemption', userId, reason: input?.reason ?? null, actor }));
  }

  private async send(
    request: FastifyRequest,
    principal: Principal,
    orgId: string,
    build: (actor: OrganisationCommand['actor'], now: string) => OrganisationCommand,
  ): Promise<CommandAnswer> {
    const context = commandContext(request, principal, this.clock);
    const outcome = await this.commands.execute(new OrganisationCommandMessage(orgId, build(context.actor, context.now.toISOString()), context));
    return commandAnswer(outcome);
  }
}

/** The request schemas, also the source of the OpenAPI contract (runtime/api-contract.ts). */
export { exemptionPath, exemptBody, endExemptionBody };
