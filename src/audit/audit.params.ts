import { z } from 'zod';
import { isPosition } from '../kernel/position.js';
import { idField } from '../http/id-param.js';

/** Stream names are `<kind>-<id>`; ids use the same narrow alphabet (kernel/ids.ts). */
const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;
const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;

const streamName = z.string().regex(STREAM_NAME, 'a stream name such as organisation-<id> or user-<id>');
const instant = z.iso.datetime({ offset: true, message: 'an ISO 8601 instant such as 2026-01-05T09:00:00Z' }).transform((value) => new Date(value));
const position = z.string().refine(isPosition, 'a position returned by this API');
const eventTypes = z
  .string()
  .transform((value) => value.split(','))
  .pipe(z.array(z.string().regex(EVENT_TYPE, 'event type names separated by commas')).min(1).max(20));

export const streamPath = z.object({ stream: streamName });

export const streamQuery = z
  .object({
    direction: z.enum(['forwards', 'backwards']).default('forwards'),
    fromRevision: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

function fromBeforeTo(value: { from?: Date | undefined; to?: Date | undefined }): boolean {
  return value.from === undefined || value.to === undefined || value.from.getTime() <= value.to.getTime();
}

const ORDER = { message: '`from` must not be after `to`', path: ['from'] };

export const eventsQuery = z
  .object({
    type: eventTypes.optional(),
    stream: streamName.optional(),
    actor: idField.optional(),
    from: instant.optional(),
    to: instant.optional(),
    cursor: position.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict()
  .refine(fromBeforeTo, ORDER);

export const orgPath = z.object({ orgId: idField });
export const userPath = z.object({ userId: idField });
export const atQuery = z.object({ at: instant }).strict();

export const integrityQuery = z.object({ stream: streamName.optional() }).strict();

export const exportQuery = z
  .object({ format: z.enum(['jsonl', 'csv']).default('jsonl'), type: eventTypes.optional(), from: instant.optional(), to: instant.optional() })
  .strict()
  .refine(fromBeforeTo, ORDER);

export const complianceQuery = z
  .object({ from: instant, to: instant, format: z.enum(['json', 'csv']).default('json') })
  .strict()
  .refine(fromBeforeTo, ORDER);
