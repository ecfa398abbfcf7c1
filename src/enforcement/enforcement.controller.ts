import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authenticate, authenticatedBefore } from '../http/auth.guard.js';
import { HotRouteDispatcher } from '../http/hot-route.dispatcher.js';
import { idField } from '../http/id-param.js';
import { minPositionField } from '../http/min-position.js';
import { sendProblem, toProblem } from '../http/problem.filter.js';
import { TokenVerifier } from '../http/token-verifier.js';
import { parseInput } from '../http/validation.js';
import { isValidId } from '../kernel/ids.js';
import type { Logger } from '../ports/logger.port.js';
import { LOGGER } from '../ports/injection.tokens.js';
import type { EnforcementDecision, MembershipPolicy } from './enforcement.decision.js';
import { EnforcementDecisions } from './enforcement.query.js';

const userPath = z.object({ userId: idField });
const decisionQuery = z.object({ orgId: idField.optional(), minPosition: minPositionField }).strict();

/** The request schemas, also the source of the OpenAPI contract (runtime/api-contract.ts). */
export { userPath, decisionQuery };

const PATH = '/v1/enforcement/:userId';

/**
 * The answer's schema for Fastify's compiled serializer. It names every field of the decision
 * (checked by the compiler below), since a field it does not name would be left out of the answer.
 */
const policyFields = {
  orgId: { type: 'string' },
  mode: { type: 'string' },
  xeroConnected: { type: 'boolean' },
  exemptUntil: { type: 'string' },
} as const satisfies Record<keyof MembershipPolicy, unknown>;
const decisionFields = {
  requirement: { type: 'string' },
  action: { type: 'string' },
  redirectTo: { type: 'string' },
  twoFactorEnabled: { type: 'boolean' },
  enforcedBy: { type: 'array', items: { type: 'object', properties: policyFields, required: ['orgId', 'mode', 'xeroConnected'] } },
  exemptUntil: { type: ['string', 'null'] },
  deadline: { type: ['string', 'null'] },
} as const satisfies Record<keyof EnforcementDecision, unknown>;
const DECISION_SCHEMA = { type: 'object', properties: decisionFields, required: ['requirement', 'action', 'twoFactorEnabled', 'enforcedBy', 'exemptUntil', 'deadline'] };

type CheckRequest = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, unknown> }>;

/**
 * GET /v1/enforcement/:userId, the hot path asked on every page load (soft) and every action
 * (hard), served as a plain Fastify route on a Fastify instance of its own (HotRouteDispatcher):
 * no guard, interceptor, pipe, query-bus layers or Nest's Fastify hooks, and a compiled serializer
 * for the answer. It applies the same rules the global layers would (bearer token, the same
 * validation, problem+json refusals); the rate limits do not cover this route, and the
 * idempotency interceptor only commands. The request metrics and logs cover it as every route.
 */
@Injectable()
export class EnforcementCheckRoute implements OnModuleInit {
  constructor(
    private readonly hotRoutes: HotRouteDispatcher,
    private readonly verifier: TokenVerifier,
    @Inject(EnforcementDecisions) private readonly decisions: EnforcementDecisions,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.hotRoutes.fastify.route({
      method: 'GET',
      url: PATH,
      schema: { response: { 200: DECISION_SCHEMA } },
      handler: (request: CheckRequest, reply: FastifyReply) => this.answer(request, reply),
    });
  }

  /**
   * The common request (a token verified shortly before, a valid id, no query, the user's document
   * in this process's memory) is answered without a promise; anything else takes `answerLater`.
   * Returns undefined once a refusal is sent (a returned reply would be sent a second time).
   */
  private answer(request: CheckRequest, reply: FastifyReply): EnforcementDecision | Promise<EnforcementDecision | FastifyReply> | undefined {
    try {
      const principal = authenticatedBefore(this.verifier, request.headers.authorization);
      const userId = request.params['userId'] ?? '';
      if (principal !== undefined && isValidId(userId) && isEmpty(request.query)) {
        const decision = this.decisions.decideAtHand(principal, userId);
        if (decision !== undefined) return decision;
      }
    } catch (error) {
      sendProblem(reply, toProblem(error, this.logger));
      return undefined;
    }
    return this.answerLater(request, reply);
  }

  private async answerLater(request: CheckRequest, reply: FastifyReply): Promise<EnforcementDecision | FastifyReply> {
    try {
      const principal = await authenticate(this.verifier, request.headers.authorization);
      const { userId, orgId, minPosition } = input(request.params, request.query);
      return await this.decisions.decide(principal, userId, orgId ?? null, minPosition);
    } catch (error) {
      sendProblem(reply, toProblem(error, this.logger));
      return reply;
    }
  }
}

/** The common request (a valid id, no query) skips the schema; anything else gets its full checks and messages. */
function input(params: Record<string, string>, query: Record<string, unknown>): { userId: string; orgId?: string | undefined; minPosition?: string | undefined } {
  const userId = params['userId'] ?? '';
  if (isValidId(userId) && isEmpty(query)) return { userId };
  return { ...parseInput(userPath, params, 'path'), ...parseInput(decisionQuery, query, 'query') };
}

function isEmpty(query: Record<string, unknown>): boolean {
  for (const _key in query) return false;
  return true;
}
