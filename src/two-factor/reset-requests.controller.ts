import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { Clock } from '../kernel/clock.js';
import type { Config } from '../config/config.js';
import { CurrentPrincipal } from '../http/current-principal.decorator.js';
import { minPositionField } from '../http/min-position.js';
import { Problem } from '../http/problem.js';
import { parseInput } from '../http/validation.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import type { ReadStore } from '../ports/read-store.port.js';
import { CLOCK, CONFIG, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { RESET_REQUESTS, type ResetRequestDoc } from './reset-requests.projection.js';

const listQuery = z
  .object({
    status: z.enum(['pending']).default('pending'),
    cursor: z.string().max(1000).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    minPosition: minPositionField,
  })
  .strict();

export interface ResetRequestView {
  readonly requestId: string;
  readonly userId: string;
  readonly requestedBy: string;
  readonly reason: string;
  readonly requestedAt: string;
  readonly expiresAt: string;
}

export interface ResetRequestsPage {
  readonly items: ResetRequestView[];
  readonly nextCursor: string | null;
}

/** Two-person resets waiting for a second support agent (RESET_REQUIRES_APPROVAL), soonest to expire first. */
@ApiTags('two-factor')
@Controller('v1/two-factor/reset-requests')
export class ResetRequestsController {
  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  async list(@Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<ResetRequestsPage> {
    const input = parseInput(listQuery, query, 'query');
    if (!hasRole(principal, 'support')) throw new Problem(403, 'forbidden', 'Only support staff may list reset requests.');
    await awaitReadModels(this.progress, input.minPosition, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
    // Expiry is decided by time, not by an event: a request past its expiry is no longer pending.
    const filter = { status: 'pending', expiresAt: { $gt: this.clock.now().toISOString() } };
    const page = await this.store.find<ResetRequestDoc>(RESET_REQUESTS, filter, { sort: [['expiresAt', 1]], limit: input.limit, ...(input.cursor ? { cursor: input.cursor } : {}) });
    return {
      items: page.items.map((doc) => ({ requestId: doc.id, userId: doc.userId, requestedBy: doc.requestedBy, reason: doc.reason, requestedAt: doc.requestedAt, expiresAt: doc.expiresAt })),
      nextCursor: page.nextCursor,
    };
  }
}

/** The request schemas, also the source of the OpenAPI contract (runtime/api-contract.ts). */
export { listQuery };
