import { z } from 'zod';
import { Problem, type InvalidField } from './problem.js';

/** The one way request input is checked: a zod schema, answered with 400 and every invalid field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'path' | 'header'): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const errors: InvalidField[] = result.error.issues.map((issue) => ({
    field: [where, ...issue.path.map(String)].join('.'),
    message: issue.code === 'unrecognized_keys' ? unknownKeysMessage(issue.keys, allowedKeys(schema, issue.path)) : issue.message,
  }));
  throw new Problem(400, 'invalid_request', `The request ${where} is not valid.`, { errors });
}

/** Key names are input too: only short plain names are quoted back, anything else is not. */
const QUOTABLE_KEY = /^[A-Za-z0-9_.-]{1,40}$/;

function unknownKeysMessage(keys: readonly string[], allowed: readonly string[] | null): string {
  const quotable = keys.filter((key) => QUOTABLE_KEY.test(key));
  const named = quotable.length === keys.length ? quotable.map((key) => `"${key}"`).join(', ') : null;
  const what = `${keys.length === 1 ? 'unknown key' : 'unknown keys'}${named ? ` ${named}` : ''}`;
  if (allowed === null) return what;
  return `${what}; allowed: ${allowed.length ? allowed.join(', ') : 'none'}`;
}

/** The keys a strict object at `path` of the schema accepts (null when the schema is not that simple). */
function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] | null {
  let current: z.ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (!(current instanceof z.ZodObject) || typeof segment !== 'string') return null;
    current = unwrap(current.shape[segment] as z.ZodType | undefined);
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : null;
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodPipe) current = current.in as z.ZodType;
    else if (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) current = current.unwrap() as z.ZodType;
    else return current;
  }
}
