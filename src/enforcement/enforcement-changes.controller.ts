import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { CurrentPrincipal } from '../http/current-principal.decorator.js';
import { idField } from '../http/id-param.js';
import { minPositionField } from '../http/min-position.js';
import { parseInput } from '../http/validation.js';
import type { Principal } from '../kernel/principal.js';
import { EnforcementChangeFeed } from './enforcement-changes.feed.js';
import { EnforcementDocumentQuery } from './enforcement-document.query.js';
import type { HostDecisionDocument } from './enforcement.host-document.js';

const changesQuery = z.object({ after: minPositionField.meta({ description: 'Stream the changes after this position (an SSE `id` or a command\'s `position`); default: from now.' }) }).strict();
const resumeHeader = z.object({ 'last-event-id': minPositionField }).strict();
const documentPath = z.object({ userId: idField });
const documentQuery = z.object({ minPosition: minPositionField }).strict();

@ApiTags('enforcement')
@Controller('v1/enforcement')
export class EnforcementChangesController {
  constructor(
    private readonly feed: EnforcementChangeFeed,
    private readonly queries: QueryBus,
  ) {}

  /**
   * Server-Sent Events. `Last-Event-ID` wins over `after`: an EventSource reconnects to the URL it
   * first opened, so the query still names where it started and the header where it got to.
   */
  @Get('changes')
  async changes(
    @Query() query: unknown,
    @Headers('last-event-id') lastEventId: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { after } = parseInput(changesQuery, query, 'query');
    const resume = parseInput(resumeHeader, lastEventId === undefined ? {} : { 'last-event-id': lastEventId }, 'header')['last-event-id'];
    const afterKey = await this.feed.admit(principal, resume ?? after);
    // From here Fastify leaves the socket to the feed: no serializer, no onSend hooks, no second answer.
    reply.hijack();
    void this.feed.serve(reply.raw, afterKey);
  }

  @Get('documents/:userId')
  async document(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<HostDecisionDocument> {
    const { userId } = parseInput(documentPath, params, 'path');
    const { minPosition } = parseInput(documentQuery, query, 'query');
    return this.queries.execute(new EnforcementDocumentQuery(principal, userId, minPosition));
  }
}

/** The request schemas, also the source of the OpenAPI contract (runtime/api-contract.ts). */
export { changesQuery, resumeHeader, documentPath, documentQuery };
