import type { Actor, JsonValue, RecordedEvent } from '../kernel/event-envelope.js';
import { InvalidCursorError } from '../ports/read-store.port.js';
import type { EventStore } from '../ports/event-store.port.js';

/**
 * One event as staff who are not auditors may see it (org admins, support): what happened, when,
 * by whom and why. Only plain fields named below pass; encrypted values (secrets, e-mail), hashes
 * and message ids never do, whatever an event carries.
 */
export interface TimelineEntry {
  readonly revision: number;
  readonly type: string;
  readonly at: string;
  readonly actor: Actor;
  readonly reason: string | null;
  readonly details: Readonly<Record<string, string | number | boolean | readonly string[]>>;
}

export interface TimelinePage {
  readonly items: readonly TimelineEntry[];
  /** Pass as `cursor` for older entries; null at the stream's first event. */
  readonly nextCursor: string | null;
}

const SHOWN_FIELDS = ['from', 'to', 'mode', 'userId', 'role', 'tenantId', 'name', 'hardFrom', 'until', 'cadence', 'orgIds', 'graceDays', 'by'] as const;

export function timelineEntry(event: RecordedEvent): TimelineEntry {
  const details: Record<string, string | number | boolean | readonly string[]> = {};
  for (const field of SHOWN_FIELDS) {
    const value = event.data[field];
    if (isShown(value)) details[field] = value;
  }
  const reason = event.data['reason'];
  return { revision: event.revision, type: event.type, at: event.metadata.occurredAt, actor: event.metadata.actor, reason: typeof reason === 'string' ? reason : null, details };
}

function isShown(value: JsonValue | undefined): value is string | number | boolean | string[] {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return true;
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Newest first, keyset-paged by revision (the cursor is the next older revision). */
export async function readTimeline(store: EventStore, stream: string, cursor: string | null, limit: number): Promise<TimelinePage> {
  const fromRevision = cursor === null ? undefined : decodeRevision(cursor);
  const events = await store.readStream(stream, { direction: 'backwards', limit: limit + 1, ...(fromRevision === undefined ? {} : { fromRevision }) });
  const page = events.slice(0, limit);
  const next = events.length > limit ? page.at(-1)!.revision - 1 : null;
  return { items: page.map(timelineEntry), nextCursor: next !== null && next >= 0 ? String(next) : null };
}

function decodeRevision(cursor: string): number {
  if (!/^\d{1,15}$/.test(cursor)) throw new InvalidCursorError();
  return Number(cursor);
}
