import { z } from 'zod';

/**
 * Who may call a route. Staff roles come from the token's `roles` claim; `self` and `org-admin`
 * are relations to the resource in the path, decided from the service's own history.
 */
export type ApiRole = 'anyone' | 'platform' | 'support' | 'auditor' | 'operator' | 'self' | 'org-admin';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type JsonSchema = { readonly [keyword: string]: unknown };
/** A zod schema (converted with z.toJSONSchema) or a JSON Schema written out. */
export type SchemaSource = z.ZodType | JsonSchema;
export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 414 | 415 | 422 | 429 | 431 | 503;

export interface ApiResponse {
  readonly description: string;
  /** Media type (without parameters) → schema of the body; absent for an empty body. */
  readonly content?: Readonly<Record<string, SchemaSource>>;
}

/** One route of the public HTTP API: the single place its contract is written down. */
export interface ApiRoute {
  readonly method: HttpMethod;
  /** Fastify syntax, as registered: `/v1/organisations/:orgId`. */
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly roles: readonly ApiRole[];
  readonly params?: SchemaSource;
  readonly query?: SchemaSource;
  /** Request headers the route reads (beyond authorization and the command headers). */
  readonly headers?: SchemaSource;
  readonly body?: SchemaSource;
  readonly responses: Readonly<Record<number, ApiResponse>>;
  /** Refusals particular to this route, by status, with their `code`s; the common ones are added. */
  readonly problems?: Partial<Readonly<Record<ProblemStatus, readonly string[]>>>;
}

const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const COMMAND_METHODS: ReadonlySet<HttpMethod> = new Set(['POST', 'PUT', 'DELETE']);

const ROLE_WORDS: Readonly<Record<ApiRole, string>> = {
  anyone: 'anyone, without a token',
  platform: 'the host platform (role `platform`)',
  support: 'support staff (role `support`)',
  auditor: 'auditors (role `auditor`)',
  operator: 'operators (role `operator`)',
  self: 'the user named in the path (token `sub` equal to `userId`)',
  'org-admin': 'an admin of the organisation named in the path',
};

const STATUS_WORDS: Readonly<Record<ProblemStatus, string>> = {
  400: 'The request is not valid (path, query, headers or body); `errors` lists every invalid field.',
  401: 'No bearer token, or one that is not valid or has expired.',
  403: 'The token is valid but its holder may not do this.',
  404: 'Not found.',
  409: 'Conflicts with the current state, or a request with the same Idempotency-Key is still running.',
  410: 'The user has been forgotten.',
  413: 'The request body is too large.',
  414: 'A path parameter is too long.',
  415: 'The request body must be application/json.',
  422: 'The request is well formed but refused (a wrong code, or an Idempotency-Key reused with another body).',
  429: 'Too many attempts; wait for Retry-After seconds.',
  431: 'The request headers (or the URL) are too large.',
  503: 'Read models have not reached `minPosition` within the bound, the service is not ready, or its storage cannot take writes (full or read-only); retry after Retry-After seconds.',
};

/** Parameters that mean the same on every route they appear on. */
const PARAMETER_WORDS: Readonly<Record<string, string>> = {
  orgId: 'Organisation id: letters, digits and `. _ : -`, at most 128 characters.',
  userId: 'User id: letters, digits and `. _ : -`, at most 128 characters.',
  minPosition:
    'Read-your-writes: a `position` answered by a command. The query waits (at most READ_YOUR_WRITES_TIMEOUT_MS) until read models reach it, else answers 503.',
  cursor: 'Opaque cursor from the previous page\'s `nextCursor`.',
  limit: 'Page size.',
  stream: 'Stream name, `organisation-<orgId>` or `user-<userId>` (on /v1/audit/events, a prefix).',
  type: 'Event types, separated by commas.',
  actor: 'Id of the caller who caused the events.',
  from: 'ISO 8601 instant, inclusive.',
  to: 'ISO 8601 instant, inclusive; not before `from`.',
  at: 'ISO 8601 instant: the state after the last event at or before it.',
  direction: 'Reading order.',
  fromRevision: 'First revision to read (as answered in `nextRevision`).',
  format: 'Answer format.',
  twoFactor: 'Only the members with this 2FA status.',
};

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes a retry safe (DESIGN §7): bound to the caller, the route and a SHA-256 fingerprint of the body. The same key and body answer what the first request answered; the same key with another body is 422 `idempotency_key_reused`; while the first is still running, 409 `request_in_progress`. Without a key a command is not deduplicated.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
} as const;

const CORRELATION_ID = {
  name: 'X-Correlation-Id',
  in: 'header',
  required: false,
  description: 'Recorded as the correlation id of the events this command stores.',
  schema: { type: 'string', minLength: 1, maxLength: 128 },
} as const;

const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details. Open to extension members (e.g. `retryAfterSeconds`, `lockedUntil`, `enforcingOrgIds`).',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', description: '`urn:two-factor:problem:<code>`' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    code: { type: 'string', description: 'Machine-readable reason, stable across releases.' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string', description: '`body.code`, `query.limit`, `path.userId`, `header.idempotency-key`…' }, message: { type: 'string' } },
      },
    },
  },
  additionalProperties: true,
};

/** JSON Schema of a zod schema (what a caller sends for requests, what the service sends for answers). */
function toJsonSchema(source: SchemaSource, io: 'input' | 'output'): JsonSchema {
  if (!(source instanceof z.ZodType)) return source;
  const { $schema: _dialect, ...schema } = z.toJSONSchema(source, { io, unrepresentable: 'any' }) as JsonSchema;
  return schema;
}

/** `/v1/users/:userId` → `/v1/users/{userId}` */
function openApiPath(fastifyPath: string): string {
  return fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function isCommandRoute(route: Pick<ApiRoute, 'method'>): boolean {
  return COMMAND_METHODS.has(route.method);
}

function rolesSentence(roles: readonly ApiRole[]): string {
  const words = roles.map((role) => ROLE_WORDS[role]);
  const list = words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words.at(-1)}` : (words[0] ?? 'nobody');
  return `Allowed: ${list}.`;
}

type OpenApiObject = Record<string, unknown> & { paths?: Record<string, Record<string, Record<string, unknown>>>; components?: Record<string, unknown> };

/**
 * Completes the document Nest generates from the controllers with the contract: parameters,
 * bodies, answers, problems, roles and the Idempotency-Key header. Nest's operations are kept
 * (operation ids, tags) and overwritten where the contract speaks; one it does not know stays
 * bare, which the OpenAPI spec then reports as a route without roles.
 */
export function completeOpenApiDocument<T extends object>(generated: T, routes: readonly ApiRoute[]): T {
  const document = structuredClone(generated) as OpenApiObject;
  const paths = document.paths ?? {};
  for (const route of routes) {
    const path = (paths[openApiPath(route.path)] ??= {});
    const method = route.method.toLowerCase();
    path[method] = { operationId: fallbackOperationId(route), ...path[method], ...operation(route) };
  }
  const components = document.components ?? {};
  const completed: OpenApiObject = {
    ...document,
    openapi: '3.1.0',
    paths,
    components: {
      ...components,
      schemas: { ...(components['schemas'] as object | undefined), Problem: PROBLEM_SCHEMA },
    },
  };
  return completed as T;
}

/** For routes Nest does not describe (health, docs): `GET /health/live` → `getHealthLive`. */
function fallbackOperationId(route: ApiRoute): string {
  const words = route.path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return route.method.toLowerCase() + words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
}

function operation(route: ApiRoute): Record<string, unknown> {
  const sentence = rolesSentence(route.roles);
  return {
    tags: [route.tag],
    summary: route.summary,
    description: [route.description, sentence].filter(Boolean).join('\n\n'),
    'x-roles': route.roles,
    ...(route.roles.includes('anyone') ? { security: [] } : {}),
    parameters: parameters(route),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: toJsonSchema(route.body, 'input') } } } } : {}),
    responses: mergedResponses(successResponses(route), problemResponses(route)),
  };
}

/** A status answered both ways (an HTML page's own refusal and a framework problem) lists both media types. */
function mergedResponses(own: Record<string, unknown>, problems: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...own };
  for (const [status, problem] of Object.entries(problems)) {
    const mine = merged[status] as { description: string; content?: Record<string, unknown> } | undefined;
    const theirs = problem as { description: string; content?: Record<string, unknown> };
    merged[status] = mine ? { ...theirs, description: `${mine.description} ${theirs.description}`, content: { ...theirs.content, ...mine.content } } : theirs;
  }
  return merged;
}

function parameters(route: ApiRoute): Record<string, unknown>[] {
  return [
    ...objectParameters(route.params, 'path'),
    ...objectParameters(route.query, 'query'),
    ...objectParameters(route.headers, 'header'),
    ...(isCommandRoute(route) ? [IDEMPOTENCY_KEY, CORRELATION_ID] : []),
  ];
}

/** An object schema of a path, query or headers becomes one parameter per property. */
function objectParameters(source: SchemaSource | undefined, where: 'path' | 'query' | 'header'): Record<string, unknown>[] {
  if (!source) return [];
  const schema = toJsonSchema(source, 'input');
  const properties = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(PARAMETER_WORDS[name] ? { description: PARAMETER_WORDS[name] } : {}),
    schema: property,
  }));
}

function successResponses(route: ApiRoute): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(route.responses).map(([status, response]) => [
      status,
      {
        description: response.description,
        ...(response.content
          ? { content: Object.fromEntries(Object.entries(response.content).map(([type, schema]) => [type, { schema: toJsonSchema(schema, 'output') }])) }
          : {}),
      },
    ]),
  );
}

/** The statuses every route of a kind can answer, then the route's own. */
function problemStatuses(route: ApiRoute): Map<ProblemStatus, string[]> {
  const codes = new Map<ProblemStatus, string[]>();
  const add = (status: ProblemStatus, ...more: string[]): void => {
    codes.set(status, [...new Set([...(codes.get(status) ?? []), ...more])]);
  };
  if (takesInput(route)) add(400, 'invalid_request');
  if (!route.roles.includes('anyone')) {
    add(401, 'unauthorized');
    add(403, 'forbidden');
  }
  if (route.path.includes(':')) {
    add(400, 'invalid_url');
    add(414, 'uri_too_long');
  }
  add(431, 'invalid_request');
  if (isCommandRoute(route)) {
    add(409, 'request_in_progress');
    add(413, 'invalid_request');
    add(415, 'invalid_request');
    add(422, 'idempotency_key_reused');
  }
  if (acceptsMinPosition(route)) add(503, 'read_models_behind');
  // Any route that reaches the stores: a full or read-only disk under them.
  if (!route.roles.includes('anyone')) add(503, 'storage_unavailable');
  if (isCommandRoute(route)) add(503, 'stream_busy');
  for (const [status, more] of Object.entries(route.problems ?? {})) add(Number(status) as ProblemStatus, ...more);
  return new Map([...codes].sort(([a], [b]) => a - b));
}

/** Path, query, body or, on a command, the Idempotency-Key header: anything a caller can get wrong. */
function takesInput(route: ApiRoute): boolean {
  return route.params !== undefined || route.query !== undefined || route.body !== undefined || isCommandRoute(route);
}

function acceptsMinPosition(route: ApiRoute): boolean {
  const properties = route.query ? (toJsonSchema(route.query, 'input')['properties'] as object | undefined) : undefined;
  return properties !== undefined && 'minPosition' in properties;
}

function problemResponses(route: ApiRoute): Record<string, unknown> {
  return Object.fromEntries(
    [...problemStatuses(route)].map(([status, codes]) => [
      String(status),
      {
        description: codes.length === 0 ? STATUS_WORDS[status] : `${STATUS_WORDS[status]} Codes: ${codes.map((code) => `\`${code}\``).join(', ')}.`,
        ...problemHeaders(status),
        content: {
          [PROBLEM_MEDIA_TYPE]: { schema: { allOf: [{ $ref: '#/components/schemas/Problem' }, { properties: { status: { const: status } } }] } },
        },
      },
    ]),
  );
}

function problemHeaders(status: ProblemStatus): Record<string, unknown> {
  const integer = { type: 'string', pattern: '^\\d+$' };
  if (status === 401) return { headers: { 'WWW-Authenticate': { required: true, description: '`Bearer`', schema: { type: 'string' } } } };
  if (status === 429) return { headers: { 'Retry-After': { required: true, description: 'Seconds to wait.', schema: integer } } };
  if (status === 503) return { headers: { 'Retry-After': { required: false, description: 'Seconds to wait.', schema: integer } } };
  return {};
}
