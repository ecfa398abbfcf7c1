import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../kernel/clock.js';
import { CLOCK } from '../ports/injection.tokens.js';
import { CurrentPrincipal } from '../http/current-principal.decorator.js';
import { commandAnswer, commandContext, generatedId, type CommandAnswer } from '../http/command-context.js';
import { idField } from '../http/id-param.js';
import { minPositionField } from '../http/min-position.js';
import type { Principal } from '../kernel/principal.js';
import { parseInput } from '../http/validation.js';
import { TwoFactorFlows, type BackupCodesAnswer, type PendingReset, type SetupAnswer, type VerifyOutcome } from './two-factor.flows.js';
import { UserViewQuery, type UserView } from './user.queries.js';
import { DEVICE_TOKEN_PATTERN } from './device-token.js';
import { TrustedDevicesQuery, type TrustedDevicesView } from './trusted-devices.queries.js';
import { UserByEmailQuery, UserTimelineQuery, type UserLookup } from './user-lookup.queries.js';
import type { TimelinePage } from '../audit/timeline.view.js';

const registerBody = z.object({ id: idField.optional(), email: z.email().max(254) }).strict();
// Format errors are answered before any check so they never count as failed attempts.
const totpCode = z.string().regex(/^\d{6}$/, 'six digits');
const codeBody = z.object({ code: totpCode }).strict();
// The user's own words, shown back to them and to support: printable, short, stored encrypted.
const deviceLabel = z.string().trim().min(1, 'at least one character').max(64, 'at most 64 characters').regex(/^[^\p{Cc}]+$/u, 'no control characters');
const remember = { rememberDevice: z.boolean().optional(), deviceLabel: deviceLabel.optional() };
const verifyBody = z
  .union([
    z.object({ code: totpCode, ...remember }).strict(),
    z.object({ backupCode: z.string().regex(/^\d{8}$/, 'eight digits'), ...remember }).strict(),
    z.object({ deviceToken: z.string().regex(DEVICE_TOKEN_PATTERN, 'the deviceToken a verify answered') }).strict(),
  ])
  .refine((input) => !('deviceLabel' in input && input.deviceLabel !== undefined) || ('rememberDevice' in input && input.rememberDevice === true), {
    message: 'deviceLabel only with rememberDevice: true',
    path: ['deviceLabel'],
  });
const resetBody = z.object({ reason: z.string().trim().min(1, 'a written reason is required').max(500) }).strict();
const userPath = z.object({ userId: idField });
const devicePath = z.object({ userId: idField, deviceId: idField });
const resetRequestPath = z.object({ userId: idField, requestId: idField });
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

  /** `amr` says what was checked (RFC 8176 where it has a value; `device` is this service's own, see docs/integration.md). */
  @Post(':userId/two-factor/verify')
  @HttpCode(200)
  async verify(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<VerifyAnswer> {
    const { userId } = parseInput(userPath, params, 'path');
    const input = parseInput(verifyBody, body, 'body');
    const context = commandContext(request, principal, this.clock);
    if ('deviceToken' in input) return { verified: true, amr: ['device'], ...commandAnswer(await this.flows.verifyDevice(userId, input.deviceToken, context)) };
    const remember = input.rememberDevice === true ? { label: input.deviceLabel ?? null } : null;
    if ('code' in input) return verifyAnswer(['otp'], await this.flows.verifyCode(userId, input.code, context, remember));
    return verifyAnswer(['otp', 'backup_code'], await this.flows.verifyBackupCode(userId, input.backupCode, context, remember));
  }

  @Get(':userId/two-factor/devices')
  async devices(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<TrustedDevicesView> {
    const { userId } = parseInput(userPath, params, 'path');
    const { minPosition } = parseInput(viewQuery, query, 'query');
    return this.queries.execute(new TrustedDevicesQuery(principal, userId, minPosition));
  }

  @Delete(':userId/two-factor/devices/:deviceId')
  async revokeDevice(@Param() params: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer> {
    const { userId, deviceId } = parseInput(devicePath, params, 'path');
    return commandAnswer(await this.flows.revokeDevice(userId, deviceId, commandContext(request, principal, this.clock)));
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

  /** 200 when done; 202 with the request when RESET_REQUIRES_APPROVAL makes it wait for a second agent. */
  @Post(':userId/two-factor/reset')
  @HttpCode(200)
  async reset(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer | (CommandAnswer & PendingReset)> {
    const { userId } = parseInput(userPath, params, 'path');
    const { reason } = parseInput(resetBody, body, 'body');
    const { outcome, pending } = await this.flows.reset(userId, reason, commandContext(request, principal, this.clock));
    if (!pending) return commandAnswer(outcome);
    reply.status(202);
    return { ...pending, ...commandAnswer(outcome) };
  }

  @Post(':userId/two-factor/reset-requests/:requestId/approval')
  @HttpCode(200)
  async approveReset(@Param() params: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer> {
    const { userId, requestId } = parseInput(resetRequestPath, params, 'path');
    return commandAnswer(await this.flows.approveReset(userId, requestId, commandContext(request, principal, this.clock)));
  }

  @Post(':userId/forget')
  @HttpCode(200)
  async forget(@Param() params: unknown, @Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): Promise<CommandAnswer> {
    const { userId } = parseInput(userPath, params, 'path');
    return commandAnswer(await this.flows.forget(userId, commandContext(request, principal, this.clock)));
  }
}

export type VerifyAnswer = CommandAnswer & { verified: true; amr: string[]; deviceId?: string; deviceToken?: string; deviceExpiresAt?: string };

function verifyAnswer(amr: string[], outcome: VerifyOutcome): VerifyAnswer {
  const device = outcome.device ? { deviceId: outcome.device.deviceId, deviceToken: outcome.device.deviceToken, deviceExpiresAt: outcome.device.expiresAt } : {};
  return { verified: true, amr, ...device, ...commandAnswer(outcome) };
}

/** The request schemas, also the source of the OpenAPI contract (runtime/api-contract.ts). */
export { registerBody, codeBody, verifyBody, resetBody, userPath, devicePath, resetRequestPath, viewQuery, lookupQuery, timelineQuery };
