import { Readable } from 'node:stream';
import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal } from '../http/current-principal.decorator.js';
import type { Principal } from '../kernel/principal.js';
import { requireAuditor } from './audit.access.js';
import { parseInput } from '../http/validation.js';
import type { EventStore } from '../ports/event-store.port.js';
import { EVENT_STORE } from '../ports/injection.tokens.js';
import { EventsQuery, StreamHistoryQuery, type EventsView, type StreamHistoryView } from './audit-history.queries.js';
import { ComplianceQuery, StateAsOfQuery, StreamIntegrityQuery, type StateAsOfView } from './audit-replay.queries.js';
import { exportHistory } from './audit.export.js';
import type { EventFilter } from './audit.history.js';
import { atQuery, complianceQuery, eventsQuery, exportQuery, integrityQuery, orgPath, streamPath, streamQuery, userPath } from './audit.params.js';
import { complianceCsv } from './compliance.csv.js';
import type { ComplianceReport } from './compliance.report.js';
import type { IntegrityResult } from './integrity.js';
import { verifyStore } from './integrity.scan.js';

/**
 * Streamed bodies: Readable.from pulls the next chunk only when the socket drained the previous
 * one, so a slow client holds back reading from the store instead of filling memory.
 */
export function sendStream(reply: FastifyReply, contentType: string, chunks: AsyncIterable<string>, filename?: string): FastifyReply {
  reply.header('content-type', contentType).header('cache-control', 'no-store');
  if (filename) reply.header('content-disposition', `attachment; filename="${filename}"`);
  return reply.send(Readable.from(chunks, { objectMode: false, highWaterMark: 64 * 1024 }));
}

async function* ndjson<T>(items: AsyncIterable<T>): AsyncGenerator<string> {
  for await (const item of items) yield `${JSON.stringify(item)}\n`;
}

@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  constructor(
    private readonly queries: QueryBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  @Get('streams/:stream')
  async stream(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<StreamHistoryView> {
    requireAuditor(principal);
    const { stream } = parseInput(streamPath, params, 'path');
    const input = parseInput(streamQuery, query, 'query');
    return this.queries.execute(new StreamHistoryQuery(stream, input.direction, input.fromRevision, input.limit));
  }

  @Get('events')
  async events(@Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<EventsView> {
    requireAuditor(principal);
    const input = parseInput(eventsQuery, query, 'query');
    const filter: EventFilter = { ...filterOf(input), ...(input.stream ? { streamPrefix: input.stream } : {}), ...(input.actor ? { actorId: input.actor } : {}) };
    return this.queries.execute(new EventsQuery(filter, input.cursor, input.limit));
  }

  @Get('organisations/:orgId/state')
  async organisationState(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<StateAsOfView> {
    requireAuditor(principal);
    const { orgId } = parseInput(orgPath, params, 'path');
    const { at } = parseInput(atQuery, query, 'query');
    return this.queries.execute(new StateAsOfQuery('organisation', orgId, at));
  }

  @Get('users/:userId/state')
  async userState(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<StateAsOfView> {
    requireAuditor(principal);
    const { userId } = parseInput(userPath, params, 'path');
    const { at } = parseInput(atQuery, query, 'query');
    return this.queries.execute(new StateAsOfQuery('user', userId, at));
  }

  /** One stream: a JSON answer. The whole store: NDJSON progress lines, each break found, then a summary. */
  @Get('integrity')
  async integrity(@Query() query: unknown, @CurrentPrincipal() principal: Principal, @Res() reply: FastifyReply): Promise<FastifyReply> {
    requireAuditor(principal);
    const { stream } = parseInput(integrityQuery, query, 'query');
    if (stream === undefined) return sendStream(reply, 'application/x-ndjson; charset=utf-8', ndjson(verifyStore(this.store)));
    const result: IntegrityResult = await this.queries.execute(new StreamIntegrityQuery(stream));
    return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(result));
  }

  @Get('export')
  async export(@Query() query: unknown, @CurrentPrincipal() principal: Principal, @Res() reply: FastifyReply): Promise<FastifyReply> {
    requireAuditor(principal);
    const input = parseInput(exportQuery, query, 'query');
    const chunks = exportHistory(this.store, filterOf(input), input.format);
    return input.format === 'csv'
      ? sendStream(reply, 'text/csv; charset=utf-8; header=present', chunks, 'audit-export.csv')
      : sendStream(reply, 'application/x-ndjson; charset=utf-8', chunks, 'audit-export.jsonl');
  }

  @Get('organisations/:orgId/compliance')
  async compliance(@Param() params: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal, @Res() reply: FastifyReply): Promise<FastifyReply> {
    requireAuditor(principal);
    const { orgId } = parseInput(orgPath, params, 'path');
    const input = parseInput(complianceQuery, query, 'query');
    const report: ComplianceReport = await this.queries.execute(new ComplianceQuery(orgId, input.from, input.to));
    if (input.format === 'csv') return reply.header('content-type', 'text/csv; charset=utf-8; header=present').send(complianceCsv(report));
    return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(report));
  }
}

function filterOf(input: { type?: string[] | undefined; from?: Date | undefined; to?: Date | undefined }): EventFilter {
  return {
    ...(input.type ? { types: input.type } : {}),
    ...(input.from ? { from: input.from.getTime() } : {}),
    ...(input.to ? { to: input.to.getTime() } : {}),
  };
}
