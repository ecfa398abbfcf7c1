import type { FastifyRequest } from 'fastify';
import type { CommandContext } from '../application/command-handling.js';
import type { Clock } from '../kernel/clock.js';
import { derivedResourceId, isValidId, newId } from '../kernel/ids.js';
import type { CommandOutcome } from '../application/command-handling.js';
import { actorOf, type Principal } from '../kernel/principal.js';
import { Problem } from './problem.js';
import { IDEMPOTENCY_KEY_HEADER } from './idempotency.scope.js';

/** Command ids the idempotency interceptor derived for keyed requests (see idempotency.scope.ts). */
const keyedCommandIds = new WeakMap<FastifyRequest, string>();

export function bindCommandId(request: FastifyRequest, commandId: string): void {
  keyedCommandIds.set(request, commandId);
}

/**
 * A keyed request carries the command id the idempotency interceptor derived from the caller, the
 * route, the key and the body fingerprint, so its retry proposes the same event ids and a request
 * with another body never matches them; an unkeyed one gets a fresh id and is not deduplicated.
 */
export function commandContext(request: FastifyRequest, principal: Principal, clock: Clock): CommandContext {
  const commandId = keyedCommandIds.get(request) ?? unkeyedCommandId(request);
  const correlationId = optionalIdHeader(request, 'x-correlation-id') ?? commandId;
  return { commandId, correlationId, actor: actorOf(principal), now: clock.now() };
}

/** The id of the resource a command creates when the body names none (same key and body, same id). */
export function generatedId(context: CommandContext): string {
  return derivedResourceId(context.commandId);
}

function unkeyedCommandId(request: FastifyRequest): string {
  // Reaching a command with a key the interceptor did not bind would silently drop its guarantees.
  if (request.headers[IDEMPOTENCY_KEY_HEADER] !== undefined) throw new Error('Idempotency-Key reached a command without the idempotency interceptor');
  return newId();
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
