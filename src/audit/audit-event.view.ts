import type { EventMetadata, JsonValue, RecordedEvent } from '../kernel/event-envelope.js';
import { redact } from './audit.redaction.js';
import { csvRecord } from './csv.format.js';

/** One event as an auditor sees it: everything stored, with protected values redacted. */
export interface AuditEventView {
  readonly stream: string;
  readonly revision: number;
  readonly position: string;
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata: EventMetadata;
}

export function auditEventView(event: RecordedEvent, shredded: boolean): AuditEventView {
  const { eventId, occurredAt, actor, correlationId, causationId, schemaVersion, prevHash, hash } = event.metadata;
  return {
    stream: event.stream,
    revision: event.revision,
    position: event.position,
    type: event.type,
    data: redact(event.data, shredded),
    metadata: { eventId, occurredAt, actor, correlationId, causationId, schemaVersion, prevHash, hash },
  };
}

export const CSV_COLUMNS = [
  'position', 'stream', 'revision', 'type', 'occurredAt', 'eventId', 'actorId', 'actorRoles',
  'correlationId', 'causationId', 'schemaVersion', 'prevHash', 'hash', 'data',
] as const;

export function csvHeader(): string {
  return csvRecord(CSV_COLUMNS);
}

export function csvLine(view: AuditEventView): string {
  const m = view.metadata;
  return csvRecord([
    view.position, view.stream, view.revision, view.type, m.occurredAt, m.eventId, m.actor.id, m.actor.roles.join(' '),
    m.correlationId, m.causationId, m.schemaVersion, m.prevHash, m.hash, JSON.stringify(view.data),
  ]);
}

export function jsonLine(view: AuditEventView): string {
  return `${JSON.stringify(view)}\n`;
}
