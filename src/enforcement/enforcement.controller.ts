import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal } from '../http/current-principal.decorator.js';
import { idField } from '../http/id-param.js';
import { minPositionField } from '../http/min-position.js';
import type { Principal } from '../kernel/principal.js';
import { parseInput } from '../http/validation.js';
import type { EnforcementDecision } from './enforcement.decision.js';
import { EnforcementDecisionQuery } from './enforcement.query.js';

const userPath = z.object({ userId: idField });
const decisionQuery = z.object({ orgId: idField.optional(), minPosition: minPositionField }).strict();

@ApiTags('enforcement')
@Controller('v1/enforcement')
export class EnforcementController {
  constructor(private readonly queries: QueryBus) {}

  /** The hot path: asked on every page load (soft) and every action (hard). */
  @Get(':userId')
  async decision(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<EnforcementDecision> {
    const { userId } = parseInput(userPath, params, 'path');
    const { orgId, minPosition } = parseInput(decisionQuery, query, 'query');
    return this.queries.execute(new EnforcementDecisionQuery(principal, userId, orgId ?? null, minPosition));
  }
}

/** The request schemas, also the source of the OpenAPI contract (runtime/api-contract.ts). */
export { userPath, decisionQuery };
