import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
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
import { TwoFactorFlows, type BackupCodesAnswer, type SetupAnswer } from './two-factor.flows.js';
import { UserViewQuery, type UserView } from './user.queries.js';
import { UserByEmailQuery, UserTimelineQuery, type UserLookup } from './user-lookup.queries.js';
import type { TimelinePage } from '../audit/timeline.view.js';

const registerBody = z.object({ id: idField.optional(), email: z.email().max(254) }).strict();
// Format errors are answered before any check so they never count as failed attempts.
const totpCode = z.string().regex(/^\d{6}$/, 'six digits');
const codeBody = z.object({ code: totpCode }).strict();
const verifyBody = z.union([z.object({ code: totpCode }).strict(), z.object({ backupCode: z.string().regex(/^\d{8}$/, 'eight digits') }).strict()]);
const resetBody = z.object({ reason: z.string().trim().min(1, 'a written reason is required').max(500) }).strict();
const userPath = z.object({ userId: idField });
const viewQuery = z.object({ minPosition: minPositionField }).strict();
const lookupQuery = z.object({ email: z.email().max(254).meta({ description: 'The address to look up, through its keyed blind index.' }), minPosition: minPositionField }).strict();
const timelineQuery = z
  .object({
    cursor: z.string().max(32).optional().meta({ description: '`nextCursor` of the previous page (older entries).' }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    minPosition: minPositionField,
  })
  .strict();

@ApiTags('users')
@Controller('v1/users')
export class UsersController {
  constructor(
    private readonly flows: TwoFactorFlows,
    private readonly queries: QueryBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  @HttpCode(201)
  async register(@Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer & { id: string }> {
    const input = parseInput(registerBody, body, 'body');
    const context = commandContext(request, principal, this.clock);
    const userId = input.id ?? generatedId(context);
    const outcome = await this.flows.register(userId, input.email, context);
    return { id: userId, ...commandAnswer(outcome) };
  }

  /** Support's search by e-mail: the keyed blind index, never a scan of decrypted addresses. */
  @Get()
  async lookup(@Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<UserLookup> {
    const { email, minPosition } = parseInput(lookupQuery, query, 'query');
    return this.queries.execute(new UserByEmailQuery(principal, email, minPosition));
  }

  @Get(':userId/timeline')
  async timeline(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<TimelinePage> {
    const { userId } = parseInput(userPath, params, 'path');
    const input = parseInput(timelineQuery, query, 'query');
    return this.queries.execute(new UserTimelineQuery(principal, userId, input.cursor ?? null, input.limit, input.minPosition));
  }

  @Get(':userId')
  async view(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<UserView> {
    const { userId } = parseInput(userPath, params, 'path');
    const { minPosition } = parseInput(viewQuery, query, 'query');
    return this.queries.execute(new UserViewQuery(principal, userId, minPosition));
  }

  @Post(':userId/two-factor/setup')
  @HttpCode(201)
  async setup(@Param() params: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer & SetupAnswer> {
    const { userId } = parseInput(userPath, params, 'path');
    const { outcome, answer } = await this.flows.startSetup(userId, commandContext(request, principal, this.clock));
    return { ...answer, ...commandAnswer(outcome) };
  }

  @Post(':userId/two-factor/confirm')
  @HttpCode(200)
  async confirm(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer & BackupCodesAnswer> {
    const { userId } = parseInput(userPath, params, 'path');
    const { code } = parseInput(codeBody, body, 'body');
    const { outcome, answer } = await this.flows.confirm(userId, code, commandContext(request, principal, this.clock));
    return { ...answer, ...commandAnswer(outcome) };
  }

  @Post(':userId/two-factor/verify')
  @HttpCode(200)
  async verify(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer & { verified: true }> {
    const { userId } = parseInput(userPath, params, 'path');
    const input = parseInput(verifyBody, body, 'body');
    const context = commandContext(request, principal, this.clock);
    const outcome = 'code' in input ? await this.flows.verifyCode(userId, input.code, context) : await this.flows.verifyBackupCode(userId, input.backupCode, context);
    return { verified: true, ...commandAnswer(outcome) };
  }

  @Post(':userId/two-factor/backup-codes')
  @HttpCode(200)
  async regenerate(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer & BackupCodesAnswer> {
    const { userId } = parseInput(userPath, params, 'path');
    const { code } = parseInput(codeBody, body, 'body');
    const { outcome, answer } = await this.flows.regenerateBackupCodes(userId, code, commandContext(request, principal, this.clock));
    return { ...answer, ...commandAnswer(outcome) };
  }

  @Delete(':userId/two-factor')
  async disable(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer> {
    const { userId } = parseInput(userPath, params, 'path');
    const { code } = parseInput(codeBody, body, 'body');
    return commandAnswer(await this.flows.disable(userId, code, commandContext(request, principal, this.clock)));
  }

  @Post(':userId/two-factor/reset')
  @HttpCode(200)
  async reset(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer> {
    const { userId } = parseInput(userPath, params, 'path');
    const { reason } = parseInput(resetBody, body, 'body');
    return commandAnswer(await this.flows.reset(userId, reason, commandContext(request, principal, this.clock)));
  }

  @Post(':userId/forget')
  @HttpCode(200)
  async forget(@Param() params: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer> {
    const { userId } = parseInput(userPath, params, 'path');
    return commandAnswer(await this.flows.forget(userId, commandContext(request, principal, this.clock)));
  }
}

/** The request schemas, also the source of the OpenAPI contract (runtime/api-contract.ts). */
export { registerBody, codeBody, verifyBody, resetBody, userPath, viewQuery, lookupQuery, timelineQuery };
