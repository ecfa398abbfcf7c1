import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal } from '../http/current-principal.decorator.js';
import { minPositionField } from '../http/min-position.js';
import { parseInput } from '../http/validation.js';
import type { Principal } from '../kernel/principal.js';
import { PendingResetRequestsQuery, type ResetRequestsPage } from './reset-requests.queries.js';

const listQuery = z
  .object({
    status: z.enum(['pending']).default('pending'),
    cursor: z.string().max(1000).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    minPosition: minPositionField,
  })
  .strict();

@ApiTags('two-factor')
@Controller('v1/two-factor/reset-requests')
export class ResetRequestsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  list(@Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<ResetRequestsPage> {
    const input = parseInput(listQuery, query, 'query');
    return this.queries.execute(new PendingResetRequestsQuery(principal, input.cursor, input.limit, input.minPosition));
  }
}

/** The request schemas, also the source of the OpenAPI contract (runtime/api-contract.ts). */
export { listQuery };
