import { randomUUID } from 'node:crypto';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { Clock } from '../kernel/clock.js';
import type { AnswerSealer } from '../ports/answer-sealer.port.js';
import type { IdempotencyRecord, IdempotencyStore } from '../ports/idempotency-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { AuthenticatedRequest } from './auth.guard.js';
import { bindCommandId } from './command-context.js';
import { idempotencyKeyOf, idempotencyScope, isCommandRequest, type IdempotencyScope } from './idempotency.scope.js';
import { PROBLEM_CONTENT_TYPE, Problem } from './problem.js';
import { toProblem } from './problem.filter.js';

/** A claim whose request died frees up after this long, so a retry is not refused for good. */
export const IDEMPOTENCY_LEASE_MS = 60_000;
export const IDEMPOTENCY_RECORD_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Refusals that say "try again", not "this request is wrong": storing them would refuse the retry too. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['concurrent_modification']);
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The answer as it is sealed into the store: enough to send the same bytes again. */
interface KeptAnswer {
  readonly status: number;
  readonly contentType: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
}

export interface IdempotencyDependencies {
  readonly store: IdempotencyStore;
  readonly sealer: AnswerSealer;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * DESIGN §7 for every command route, applied once for the whole application (a global
 * interceptor: after authentication, so the key is bound to a known caller, and around the handler,
 * so it sees both answers and refusals). Same key and request → the first answer (2xx or 4xx), sent
 * again without running the command; same key, other request → 422; still running → 409. A 5xx
 * releases the claim, so a retry runs again instead of being told the failure forever.
 */
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly deps: IdempotencyDependencies) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!isCommandRequest(request)) return next.handle();
    const key = idempotencyKeyOf(request);
    if (key === undefined || !request.principal) return next.handle();
    const scope = idempotencyScope(request, request.principal.id, key, this.deps.sealer);
    bindCommandId(request, scope.commandId);
    return from(this.runOnce(scope, context.switchToHttp().getResponse<FastifyReply>(), next));
  }

  private async runOnce(scope: IdempotencyScope, reply: FastifyReply, next: CallHandler): Promise<unknown> {
    const now = this.deps.clock.now().getTime();
    const token = randomUUID();
    const claim = await this.deps.store.claim({
      key: scope.recordKey,
      fingerprint: scope.fingerprint,
      token,
      now: new Date(now),
      leaseUntil: new Date(now + IDEMPOTENCY_LEASE_MS),
      expiresAt: new Date(now + IDEMPOTENCY_RECORD_LIFETIME_MS),
    });
    if (!claim.claimed) return this.answerFromRecord(scope, claim.record, reply);
    const headersBefore = { ...reply.getHeaders() };
    let value: unknown;
    try {
      value = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (error) {
      throw await this.settleRefusal(scope, token, toProblem(error, this.deps.logger));
    }
    const body = value === undefined ? null : JSON.stringify(value);
    const headers = headersSetSince(headersBefore, reply);
    await this.keep(scope, token, { status: reply.statusCode, contentType: body === null ? null : JSON_CONTENT_TYPE, headers, body });
    return value;
  }

  private async settleRefusal(scope: IdempotencyScope, token: string, problem: Problem): Promise<Problem> {
    if (problem.status >= 500 || TRANSIENT_CODES.has(problem.code)) {
      await this.deps.store.release(scope.recordKey, token).catch((error: unknown) => this.logStoreFailure('release', error));
      return problem;
    }
    const headers = { ...problem.extensions.headers };
    await this.keep(scope, token, { status: problem.status, contentType: PROBLEM_CONTENT_TYPE, headers, body: JSON.stringify(problem.body()) });
    return problem;
  }

  /**
   * The command has happened: failing to store its answer must not turn it into an error. The
   * claim then lapses, and a retry runs the command again under the same command id, which the
   * event store recognises.
   */
  private async keep(scope: IdempotencyScope, token: string, answer: KeptAnswer): Promise<void> {
    try {
      const sealed = await this.deps.sealer.seal(scope.recordKey, scope.ownerUserId, JSON.stringify(answer));
      await this.deps.store.complete(scope.recordKey, token, { status: answer.status, sealed });
    } catch (error) {
      this.logStoreFailure('complete', error);
    }
  }

  private async answerFromRecord(scope: IdempotencyScope, record: IdempotencyRecord, reply: FastifyReply): Promise<unknown> {
    if (record.fingerprint !== scope.fingerprint) {
      throw new Problem(422, 'idempotency_key_reused', 'This Idempotency-Key was already used for a different request; send a new key with a new request.');
    }
    if (record.state === 'in_progress') {
      throw new Problem(409, 'request_in_progress', 'A request with this Idempotency-Key is still being processed; retry it shortly.', { headers: { 'retry-after': '1' } });
    }
    const opened = await this.deps.sealer.open(scope.recordKey, record.answer.sealed);
    if (opened === 'shredded') throw new Problem(410, 'user_forgotten', 'This user has been forgotten.');
    const answer = JSON.parse(opened) as KeptAnswer;
    reply.status(answer.status);
    for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
    if (answer.contentType !== null) reply.header('content-type', answer.contentType);
    reply.header('idempotent-replayed', 'true');
    return answer.body ?? undefined;
  }

  private logStoreFailure(operation: string, error: unknown): void {
    this.deps.logger.error({ operation, err: { name: (error as Error | null)?.name ?? typeof error } }, 'idempotency record not updated');
  }
}

/** Headers the handler set on its answer (a Location, say), which belong to the answer as much as its body. */
function headersSetSince(before: Readonly<Record<string, unknown>>, reply: FastifyReply): Record<string, string> {
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (name === 'content-type' || name === 'content-length' || value === before[name]) continue;
    if (typeof value === 'string' || typeof value === 'number') set[name] = String(value);
  }
  return set;
}
