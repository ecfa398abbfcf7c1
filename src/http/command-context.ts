import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { CommandContext } from '../application/command-handling.js';
import type { Clock } from '../kernel/clock.js';
import { isValidId, newId } from '../kernel/ids.js';
import type { CommandOutcome } from '../application/command-handling.js';
import { actorOf, type Principal } from '../kernel/principal.js';
import { Problem } from './problem.js';

/**
 * A client retrying after a timeout sends the same Idempotency-Key; it becomes the command id, so
 * the retry proposes the same event ids and is answered with the first attempt's result. The key
 * is bound to the caller (and the route) so nobody can replay someone else's key to learn the
 * answer of a command they were not allowed to send.
 */
export function commandContext(request: FastifyRequest, principal: Principal, clock: Clock): CommandContext {
  const key = optionalIdHeader(request, 'idempotency-key');
  const route = `${request.method} ${request.url.split('?')[0]}`;
  const commandId = key === undefined ? newId() : createHash('sha256').update(`${principal.id}\n${route}\n${key}`).digest('hex');
  const correlationId = optionalIdHeader(request, 'x-correlation-id') ?? commandId;
  return { commandId, correlationId, actor: actorOf(principal), now: clock.now() };
}

function optionalIdHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !isValidId(value)) {
    throw new Problem(400, 'invalid_request', `The ${name} header is not valid.`, {
      errors: [{ field: `header.${name}`, message: 'letters, digits and . _ : - only, at most 128 characters' }],
    });
  }
  return value;
}

export interface CommandAnswer {
  readonly revision: number;
  readonly position: string | null;
}

export function commandAnswer(outcome: Pick<CommandOutcome<never>, 'revision' | 'position'>): CommandAnswer {
  return { revision: outcome.revision, position: outcome.position };
}
