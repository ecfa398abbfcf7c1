import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal } from '../http/current-principal.decorator.js';
import { idField } from '../http/id-param.js';
import { minPositionField } from '../http/min-position.js';
import type { Principal } from '../kernel/principal.js';
import { parseInput } from '../http/validation.js';
import { EnforcementPreviewQuery, type EnforcementPreview } from './enforcement-preview.query.js';

const previewPath = z.object({ orgId: idField });
const previewQuery = z
  .object({
    mode: z.enum(['off', 'soft', 'hard']).meta({ description: 'The mode to preview.' }),
    hardFrom: z.iso
      .datetime({ offset: true })
      .optional()
      .meta({ description: 'Only with `soft`: also count who would be redirected from this instant on (`atHardFrom`).' }),
    cursor: z.string().max(1000).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    minPosition: minPositionField,
  })
  .strict();

@ApiTags('enforcement')
@Controller('v1/organisations')
export class EnforcementPreviewController {
  constructor(private readonly queries: QueryBus) {}

  /** The dry run behind "effect before saving": counts and a page of affected members; writes nothing. */
  @Get(':orgId/enforcement/preview')
  async preview(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<EnforcementPreview> {
    const { orgId } = parseInput(previewPath, params, 'path');
    const input = parseInput(previewQuery, query, 'query');
    const hardFrom = input.hardFrom === undefined ? null : new Date(input.hardFrom);
    return this.queries.execute(new EnforcementPreviewQuery(principal, orgId, input.mode, hardFrom, input.cursor ?? null, input.limit, input.minPosition));
  }
}

/** The request schemas, also the source of the OpenAPI contract (runtime/api-contract.ts). */
export { previewPath, previewQuery };
