import type { z } from 'zod';
import { Problem, type InvalidField } from './problem.js';

/** The one way request input is checked: a zod schema, answered with 400 and every invalid field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'path'): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const errors: InvalidField[] = result.error.issues.map((issue) => ({
    field: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw new Problem(400, 'invalid_request', `The request ${where} is not valid.`, { errors });
}
