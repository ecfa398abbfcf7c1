import { createHash } from 'node:crypto';
import type { EventContext, EventData } from './event-envelope.js';

/**
 * Canonical JSON: object keys sorted, no whitespace. The hash covers stream and revision so that
 * moving an event to another place in history (reorder, splice) breaks the chain, not only editing it.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export interface HashInput {
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly data: EventData;
  readonly metadata: EventContext;
  readonly prevHash: string;
}

export function eventHash(input: HashInput): string {
  const { eventId, occurredAt, actor, correlationId, causationId, schemaVersion } = input.metadata;
  const canonical = canonicalJson({
    stream: input.stream,
    revision: input.revision,
    type: input.type,
    data: input.data,
    metadata: { eventId, occurredAt, actor, correlationId, causationId, schemaVersion },
  });
  return createHash('sha256').update(input.prevHash).update('\n').update(canonical).digest('hex');
}
