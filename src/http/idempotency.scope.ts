import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { canonicalJson } from '../kernel/hash-chain.js';
import type { AnswerSealer } from '../ports/answer-sealer.port.js';
import { Problem } from './problem.js';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

const COMMAND_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** 1 to 255 printable ASCII characters (DESIGN §7); a client's UUID or any opaque token fits. */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;
/** Answers of these routes belong to the user in the path: their data key seals them. */
const USER_ROUTE = /^\/v1\/users\/:userId(\/|$)/;

/** Every command route: anything that writes under /v1, including routes added later. */
export function isCommandRequest(request: FastifyRequest): boolean {
  return COMMAND_METHODS.has(request.method) && request.url.startsWith('/v1/');
}

/** The Idempotency-Key header, undefined when absent; 400 when malformed. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const value = request.headers[IDEMPOTENCY_KEY_HEADER];
  if (value === undefined) return undefined;
  if (typeof value === 'string' && KEY_PATTERN.test(value)) return value;
  throw new Problem(400, 'invalid_request', 'The Idempotency-Key header is not valid.', {
    errors: [{ field: `header.${IDEMPOTENCY_KEY_HEADER}`, message: '1 to 255 printable ASCII characters' }],
  });
}

export interface IdempotencyScope {
  /** Keyed digest of caller, route and key: where the record lives. */
  readonly recordKey: string;
  /** Keyed digest of the canonical request (body and query). */
  readonly fingerprint: string;
  /** Derived from both, so a different body can never propose the events of the first. */
  readonly commandId: string;
  /** The user whose data key seals the answer, for routes under /v1/users/:userId. */
  readonly ownerUserId: string | null;
}

/**
 * Binds a key to the caller (`sub`), the route (method, route template and decoded path
 * parameters: the concrete path, however it was percent-encoded) and the request. Digests are
 * keyed, because bodies hold emails and six-digit codes that a plain hash would give away.
 */
export function idempotencyScope(request: FastifyRequest, callerId: string, key: string, sealer: Pick<AnswerSealer, 'digest'>): IdempotencyScope {
  const template = request.routeOptions.url ?? request.url.split('?')[0]!;
  const params = (request.params ?? {}) as Record<string, unknown>;
  const binding = canonicalJson([callerId, request.method, template, params, key]);
  const fingerprint = sealer.digest('fingerprint', canonicalJson({ body: request.body ?? null, query: request.query ?? {} }));
  const commandId = createHash('sha256').update(canonicalJson([binding, fingerprint])).digest('hex');
  const userId = params['userId'];
  return {
    recordKey: sealer.digest('record', binding),
    fingerprint,
    commandId,
    ownerUserId: USER_ROUTE.test(template) && typeof userId === 'string' ? userId : null,
  };
}
