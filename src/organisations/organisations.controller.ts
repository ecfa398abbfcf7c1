import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../kernel/clock.js';
import { CLOCK } from '../ports/injection.tokens.js';
import { CurrentPrincipal } from '../http/current-principal.decorator.js';
import { commandAnswer, commandContext, generatedId, type CommandAnswer } from '../http/command-context.js';
import { idField } from '../http/id-param.js';
import { minPositionField } from '../http/min-position.js';
import type { Principal } from '../kernel/principal.js';
import { parseInput } from '../http/validation.js';
import { ENFORCEMENT_MODES, MEMBER_ROLES, type OrganisationEvent } from './organisation.events.js';
import { MAX_SYNCED_MEMBERS } from './organisation.decider.js';
import { MAX_GRACE_DAYS } from './enforcement-schedule.rules.js';
import type { OrganisationCommand } from './organisation.commands.js';
import { OrganisationCommandMessage } from './organisation.command-message.js';
import { OrganisationHistoryQuery } from './organisation-history.query.js';
import type { TimelinePage } from '../audit/timeline.view.js';
import { MEMBER_TWO_FACTOR_FILTERS, OrganisationMembersQuery, OrganisationViewQuery, type MembersPage, type OrganisationView } from './organisation.queries.js';

const text = (max: number) => z.string().trim().min(1).max(max);
const registerBody = z.object({ id: idField.optional(), name: text(200) }).strict();
const xeroBody = z.object({ tenantId: text(100) }).strict();
const enforcementBody = z
  .object({
    mode: z.enum(ENFORCEMENT_MODES),
    reason: text(500).optional(),
    hardFrom: z.iso
      .datetime({ offset: true })
      .nullable()
      .optional()
      .meta({ description: 'Only with `soft`: the future instant at which the organisation becomes `hard` by itself; `null` cancels the schedule; absent keeps it.' }),
    graceDays: z.number().int().min(0).max(MAX_GRACE_DAYS).optional().meta({ description: 'Days a member who joins a hard organisation is treated as soft (0-90, default 0); absent keeps it.' }),
  })
  .strict();
const memberBody = z.object({ role: z.enum(MEMBER_ROLES) }).strict();
const membersBody = z
  .object({
    members: z.array(z.object({ userId: idField, role: z.enum(MEMBER_ROLES) }).strict()).max(MAX_SYNCED_MEMBERS),
    removeOthers: z.boolean().optional(),
  })
  .strict()
  .superRefine(({ members }, context) => {
    const seen = new Set<string>();
    members.forEach(({ userId }, index) => {
      if (seen.has(userId)) context.addIssue({ code: 'custom', path: ['members', index, 'userId'], message: 'listed more than once' });
      seen.add(userId);
    });
  });
const orgPath = z.object({ orgId: idField });
const memberPath = z.object({ orgId: idField, userId: idField });
const viewQuery = z.object({ minPosition: minPositionField }).strict();
const historyQuery = z
  .object({
    cursor: z.string().max(32).optional().meta({ description: '`nextCursor` of the previous page (older entries).' }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    minPosition: minPositionField,
  })
  .strict();
const membersQuery = z
  .object({
    twoFactor: z.enum(MEMBER_TWO_FACTOR_FILTERS).optional(),
    exempt: z.enum(['true', 'false']).optional().meta({ description: '`true`: only members exempt from enforcement; `false`: only members not exempt.' }),
    locked: z.enum(['true']).optional().meta({ description: '`true`: only members whose verification is locked out now.' }),
    cursor: z.string().max(1000).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    minPosition: minPositionField,
  })
  .strict();

export interface MembersSyncAnswer extends CommandAnswer {
  readonly changes: { readonly joined: number; readonly roleChanged: number; readonly left: number };
}

function countChanges(events: readonly OrganisationEvent[]): MembersSyncAnswer['changes'] {
  const count = (type: OrganisationEvent['type']): number => events.filter((event) => event.type === type).length;
  return { joined: count('MemberJoinedOrg'), roleChanged: count('MemberRoleChanged'), left: count('MemberLeftOrg') };
}

@ApiTags('organisations')
@Controller('v1/organisations')
export class OrganisationsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  @HttpCode(201)
  async register(@Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer & { id: string }> {
    const input = parseInput(registerBody, body, 'body');
    const context = commandContext(request, principal, this.clock);
    const orgId = input.id ?? generatedId(context);
    const outcome = await this.commands.execute(new OrganisationCommandMessage(orgId, { type: 'RegisterOrganisation', orgId, name: input.name, actor: context.actor }, context));
    return { id: orgId, ...commandAnswer(outcome) };
  }

  @Put(':orgId/xero-connection')
  async connectXero(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer> {
    const { orgId } = parseInput(orgPath, params, 'path');
    const { tenantId } = parseInput(xeroBody, body, 'body');
    return this.send(request, principal, orgId, (actor) => ({ type: 'ConnectToXero', tenantId, actor }));
  }

  @Delete(':orgId/xero-connection')
  async disconnectXero(@Param() params: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer> {
    const { orgId } = parseInput(orgPath, params, 'path');
    return this.send(request, principal, orgId, (actor) => ({ type: 'DisconnectFromXero', actor }));
  }

  @Put(':orgId/enforcement')
  async changeEnforcement(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer> {
    const { orgId } = parseInput(orgPath, params, 'path');
    const { mode, reason, hardFrom, graceDays } = parseInput(enforcementBody, body, 'body');
    const context = commandContext(request, principal, this.clock);
    const schedule = { ...(hardFrom === undefined ? {} : { hardFrom }), ...(graceDays === undefined ? {} : { graceDays }), scheduleId: generatedId(context), at: context.now.toISOString() };
    const outcome = await this.commands.execute(new OrganisationCommandMessage(orgId, { type: 'ChangeEnforcementMode', mode, reason: reason ?? null, ...schedule, actor: context.actor }, context));
    return commandAnswer(outcome);
  }

  @Put(':orgId/members/:userId')
  async setMember(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer> {
    const { orgId, userId } = parseInput(memberPath, params, 'path');
    const { role } = parseInput(memberBody, body, 'body');
    return this.send(request, principal, orgId, (actor, at) => ({ type: 'SetMember', userId, role, actor, at }));
  }

  /** The platform's bulk sync: the full desired list, applied as one decision with only the differences. */
  @Put(':orgId/members')
  async syncMembers(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<MembersSyncAnswer> {
    const { orgId } = parseInput(orgPath, params, 'path');
    const { members, removeOthers } = parseInput(membersBody, body, 'body');
    const context = commandContext(request, principal, this.clock);
    const command: OrganisationCommand = { type: 'SyncMembers', members, removeOthers: removeOthers ?? false, unregisteredUserIds: [], forgottenUserIds: [], actor: context.actor, at: context.now.toISOString() };
    const outcome = await this.commands.execute(new OrganisationCommandMessage(orgId, command, context));
    return { ...commandAnswer(outcome), changes: countChanges(outcome.events) };
  }

  @Delete(':orgId/members/:userId')
  async removeMember(@Param() params: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer> {
    const { orgId, userId } = parseInput(memberPath, params, 'path');
    return this.send(request, principal, orgId, (actor, at) => ({ type: 'RemoveMember', userId, actor, at }));
  }

  @Get(':orgId')
  async view(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<OrganisationView> {
    const { orgId } = parseInput(orgPath, params, 'path');
    const { minPosition } = parseInput(viewQuery, query, 'query');
    return this.queries.execute(new OrganisationViewQuery(principal, orgId, minPosition));
  }

  @Get(':orgId/members')
  async members(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<MembersPage> {
    const { orgId } = parseInput(orgPath, params, 'path');
    const input = parseInput(membersQuery, query, 'query');
    return this.queries.execute(new OrganisationMembersQuery(principal, orgId, input.minPosition, input.twoFactor ?? null, input.cursor ?? null, input.limit, input.exempt === undefined ? null : input.exempt === 'true', input.locked === 'true'));
  }

  /** The organisation's changes, newest first: for those who may view it (its admins, support, the platform). */
  @Get(':orgId/history')
  async history(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<TimelinePage> {
    const { orgId } = parseInput(orgPath, params, 'path');
    const input = parseInput(historyQuery, query, 'query');
    return this.queries.execute(new OrganisationHistoryQuery(principal, orgId, input.cursor ?? null, input.limit, input.minPosition));
  }

  private async send(
    request: FastifyRequest,
    principal: Principal,
    orgId: string,
    build: (actor: OrganisationCommand['actor'], at: string) => OrganisationCommand,
  ): Promise<CommandAnswer> {
    const context = commandContext(request, principal, this.clock);
    const outcome = await this.commands.execute(new OrganisationCommandMessage(orgId, build(context.actor, context.now.toISOString()), context));
    return commandAnswer(outcome);
  }
}

/** The request schemas, also the source of the OpenAPI contract (runtime/api-contract.ts). */
export { registerBody, xeroBody, enforcementBody, memberBody, membersBody, orgPath, memberPath, viewQuery, membersQuery, historyQuery };
