import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * Checks an HTTP answer against the OpenAPI document the service serves: the operation is found
 * by method and path template, the response by status, the schema by media type. Every HTTP spec
 * goes through it (test/support/http-harness.ts), so the document cannot drift from the service.
 */

export interface ObservedResponse {
  readonly method: string;
  /** As requested, possibly with a query string. */
  readonly path: string;
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON when the body was JSON, else the text (null when empty). */
  readonly body: unknown;
}

type Json = { [key: string]: unknown };
type Operation = { responses?: Record<string, Json> };

// ajv-formats is CommonJS: under ESM its function is the default export's default.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => void;
const JSON_MEDIA = /^application\/(?:[\w.+-]+\+)?json$/;
const PROBLEM_MEDIA = 'application/problem+json';

export class OpenApiValidator {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: readonly { template: string; pattern: RegExp }[];

  constructor(private readonly document: Json) {
    addFormats(this.ajv);
    // Static segments win over parameters, as in Fastify's router.
    this.templates = Object.keys((document['paths'] ?? {}) as Json)
      .map((template) => ({ template, pattern: templatePattern(template) }))
      .sort((a, b) => paramCount(a.template) - paramCount(b.template));
  }

  /** Every way the answer departs from the document; empty when it conforms. */
  check(observed: ObservedResponse): string[] {
    const method = observed.method.toUpperCase() === 'HEAD' ? 'get' : observed.method.toLowerCase();
    const pathname = observed.path.split('?')[0]!;
    const where = `${observed.method.toUpperCase()} ${pathname} → ${observed.status}`;
    const found = this.operation(method, pathname);
    if (!found) return this.unrouted(observed, where);
    const response = found.operation.responses?.[String(observed.status)];
    if (!response) return [`${where}: status ${observed.status} is not documented for ${method.toUpperCase()} ${found.template}`];
    const key = `${method} ${found.template} ${observed.status}`;
    return [...this.checkHeaders(response, observed, where), ...this.checkBody(response, observed, where, key)];
  }

  private operation(method: string, pathname: string): { template: string; operation: Operation } | null {
    const paths = this.document['paths'] as Record<string, Record<string, Operation>>;
    for (const { template, pattern } of this.templates) {
      if (!pattern.test(pathname)) continue;
      const operation = paths[template]?.[method];
      if (operation) return { template, operation };
    }
    return null;
  }

  /** No operation matches: only the router's own refusals (404, bad URL) may answer, as problems. */
  private unrouted(observed: ObservedResponse, where: string): string[] {
    if (observed.status < 400 || observed.status >= 500) return [`${where}: no operation is documented for this method and path`];
    return this.checkMedia({ [PROBLEM_MEDIA]: { schema: { $ref: '#/components/schemas/Problem' } } }, observed, where, `unrouted ${observed.status}`);
  }

  private checkHeaders(response: Json, observed: ObservedResponse, where: string): string[] {
    const errors: string[] = [];
    for (const [name, header] of Object.entries((response['headers'] ?? {}) as Record<string, Json>)) {
      const value = observed.headers.get(name);
      if (value === null) {
        if (header['required'] === true) errors.push(`${where}: header ${name} is required by the document but missing`);
        continue;
      }
      const schema = header['schema'] as Json | undefined;
      if (schema) errors.push(...this.validate(`header ${name} ${JSON.stringify(schema)}`, schema, value, `${where}: header ${name}`));
    }
    return errors;
  }

  private checkBody(response: Json, observed: ObservedResponse, where: string, key: string): string[] {
    const content = response['content'] as Record<string, Json> | undefined;
    if (!content) return observed.body === null || observed.body === '' ? [] : [`${where}: the document says no body, but one was sent`];
    return this.checkMedia(content, observed, where, key);
  }

  private checkMedia(content: Record<string, Json>, observed: ObservedResponse, where: string, key: string): string[] {
    const media = (observed.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const entry = content[media];
    if (!entry) return [`${where}: content type "${media}" is not documented (documented: ${Object.keys(content).join(', ')})`];
    if (observed.method.toUpperCase() === 'HEAD' || !JSON_MEDIA.test(media)) return [];
    return this.validate(`${key} ${media}`, (entry['schema'] ?? {}) as Json, observed.body, `${where}: body`);
  }

  private validate(key: string, schema: Json, value: unknown, where: string): string[] {
    let validator = this.compiled.get(key);
    if (!validator) {
      validator = this.ajv.compile(asJsonSchema(schema, this.document) as Json);
      this.compiled.set(key, validator);
    }
    if (validator(value)) return [];
    return (validator.errors ?? []).map((error) => `${where}${error.instancePath || ''} ${error.message ?? 'is not valid'}${paramsOf(error.params)}`);
  }
}

/** Fails with every mismatch, naming the table to fix. */
export function assertConforms(validator: OpenApiValidator, observed: ObservedResponse): void {
  const errors = validator.check(observed);
  if (errors.length === 0) return;
  throw new Error(`The answer does not match the OpenAPI document (src/runtime/api-contract.ts):\n  ${errors.join('\n  ')}\nBody: ${JSON.stringify(observed.body)?.slice(0, 2000)}`);
}

function templatePattern(template: string): RegExp {
  const escaped = template
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${escaped}$`);
}

function paramCount(template: string): number {
  return (template.match(/\{/g) ?? []).length;
}

function paramsOf(params: Record<string, unknown>): string {
  const shown = Object.entries(params).filter(([, value]) => value !== undefined);
  return shown.length === 0 ? '' : ` (${shown.map(([name, value]) => `${name}: ${JSON.stringify(value)}`).join(', ')})`;
}

/**
 * A schema of the document as plain JSON Schema 2020-12: local references inlined (the document's
 * schemas are not recursive) and OpenAPI 3.0's `nullable` turned into a `null` type.
 */
export function asJsonSchema(schema: unknown, document: Json): unknown {
  if (Array.isArray(schema)) return schema.map((item) => asJsonSchema(item, document));
  if (schema === null || typeof schema !== 'object') return schema;
  const { $ref, nullable, ...rest } = schema as Json;
  const resolved = typeof $ref === 'string' ? { ...(asJsonSchema(pointer(document, $ref), document) as Json), ...rest } : rest;
  const converted = Object.fromEntries(Object.entries(resolved).map(([name, value]) => [name, asJsonSchema(value, document)]));
  return nullable === true ? withNull(converted) : converted;
}

function withNull(schema: Json): Json {
  const type = schema['type'];
  const types = Array.isArray(type) ? type : type === undefined ? [] : [type];
  const enumWithNull = Array.isArray(schema['enum']) ? { enum: [...(schema['enum'] as unknown[]), null] } : {};
  if (types.length === 0) return { anyOf: [schema, { type: 'null' }] };
  return { ...schema, type: [...types, 'null'], ...enumWithNull };
}

function pointer(document: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`only local references are supported, not ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .map((part) => decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, part) => {
      if (node === null || typeof node !== 'object' || !(part in node)) throw new Error(`unresolved reference ${ref}`);
      return (node as Json)[part];
    }, document);
}
