import { createHash } from 'node:crypto';
import type { EventContext, EventData } from './event-envelope.js';

/**
 * Canonical JSON: object keys sorted, no whitespace. The hash covers stream and revision so that
 * moving an event to another place in history (reorder, splice) breaks the chain, not only editing it.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  // Loops rather than entries/filter/sort/map: every append and every integrity check runs this.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + (canonicalJson(value[i]) ?? '');
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // Default sort order is by UTF-16 code units, the same as comparing the keys with < and >.
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const field = record[key];
    if (field === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(field)}`;
  }
  return `${out}}`;
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
