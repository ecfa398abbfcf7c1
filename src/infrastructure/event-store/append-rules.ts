import type { EventContext, EventMetadata, NewEvent } from '../../kernel/event-envelope.js';
import { eventHash } from '../../kernel/hash-chain.js';
import type { AppendOptions, ExpectedRevision } from '../../ports/event-store.port.js';

/** Rules every adapter applies identically, so the contract suite sees one behaviour. */

export function assertAppendable(events: readonly NewEvent[], expected: ExpectedRevision, options: AppendOptions = {}): void {
  if (events.length === 0) throw new RangeError('append needs at least one event');
  if (typeof expected === 'number' && (!Number.isSafeInteger(expected) || expected < 0)) {
    throw new RangeError('expected revision must be a non-negative integer');
  }
  if (options.expectedLastEventId !== undefined && typeof expected !== 'number') {
    throw new RangeError('an expected last event id needs a numeric expected revision');
  }
  const ids = new Set(events.map((event) => event.metadata.eventId));
  if (ids.size !== events.length) throw new RangeError('event ids within one append must be distinct');
}

/** EventStoreDB semantics; `current` is the stream's last revision, -1 when it does not exist. */
export function expectationHolds(expected: ExpectedRevision, current: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return current < 0;
    case 'stream_exists':
      return current >= 0;
    default:
      return current === expected;
  }
}

/** The expected last event id holds for a head whose last event is `lastEventId` (null: no stream). */
export function lastEventHolds(options: AppendOptions, lastEventId: string | null): boolean {
  return options.expectedLastEventId === undefined || options.expectedLastEventId === lastEventId;
}

export function actualRevision(current: number): number | 'no_stream' {
  return current < 0 ? 'no_stream' : current;
}

/** Metadata as stored: the caller's context plus the link to the previous event and this event's hash. */
export function chainedMetadata(stream: string, revision: number, event: NewEvent, prevHash: string): EventMetadata {
  const context = pickContext(event.metadata);
  const hash = eventHash({ stream, revision, type: event.type, data: event.data, metadata: context, prevHash });
  return { ...context, prevHash, hash };
}

/** Only the fields the hash covers are stored, so nothing unhashed can ride along in metadata. */
function pickContext(metadata: EventContext): EventContext {
  const { eventId, occurredAt, actor, correlationId, causationId, schemaVersion } = metadata;
  return { eventId, occurredAt, actor: { id: actor.id, roles: [...actor.roles] }, correlationId, causationId, schemaVersion };
}
