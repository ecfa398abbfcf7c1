import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { CurrentPrincipal } from '../http/current-principal.decorator.js';
import { idField } from '../http/id-param.js';
import { minPositionField } from '../http/min-position.js';
import { Problem } from '../http/problem.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import { parseInput } from '../http/validation.js';
import type { ReadStore } from '../ports/read-store.port.js';
import { CONFIG, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { USERS } from '../organisations/directory.projection.js';
import { REMINDER_HISTORY, type ReminderHistoryDoc } from './reminder-history.projection.js';

const userPath = z.object({ userId: idField });
const listQuery = z
  .object({ cursor: z.string().max(1000).optional(), limit: z.coerce.number().int().min(1).max(200).default(50), minPosition: minPositionField })
  .strict();

export interface ReminderView {
  readonly sentAt: string;
  readonly cadence: string;
  readonly orgIds: readonly string[];
  readonly messageId: string;
}

@ApiTags('users')
@Controller('v1/users/:userId/reminders')
export class RemindersController {
  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** Newest first; support staff and the user themself. */
  @Get()
  async list(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<{ items: ReminderView[]; nextCursor: string | null }> {
    const { userId } = parseInput(userPath, params, 'path');
    const input = parseInput(listQuery, query, 'query');
    if (principal.id !== userId && !hasRole(principal, 'support')) throw new Problem(403, 'forbidden', 'Only support staff and the user may list these reminders.');
    await awaitReadModels(this.progress, input.minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    if (!(await this.store.get(USERS, userId))) throw new Problem(404, 'user_not_found', 'No user with this id is registered.');
    const page = await this.store.find<ReminderHistoryDoc>(REMINDER_HISTORY, { userId }, { sort: [['sentAt', -1]], limit: input.limit, ...(input.cursor ? { cursor: input.cursor } : {}) });
    return { items: page.items.map(({ sentAt, cadence, orgIds, messageId }) => ({ sentAt, cadence, orgIds, messageId })), nextCursor: page.nextCursor };
  }
}

/** The request schemas, also the source of the OpenAPI contract (runtime/api-contract.ts). */
export { userPath, listQuery };
