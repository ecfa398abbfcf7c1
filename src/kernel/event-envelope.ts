/** Who caused an event: the token's subject and its staff roles (empty for an end user). */
export interface Actor {
  readonly id: string;
  readonly roles: readonly string[];
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type EventData = { [key: string]: JsonValue };

/** Metadata the caller supplies; the store adds the hash chain. */
export interface EventContext {
  readonly eventId: string;
  readonly occurredAt: string;
  readonly actor: Actor;
  readonly correlationId: string;
  readonly causationId: string;
  readonly schemaVersion: number;
}

export interface EventMetadata extends EventContext {
  /** Hash of the previous event in the same stream; empty string for revision 0. */
  readonly prevHash: string;
  /** SHA-256 over prevHash and the canonical event (see hash-chain.ts). */
  readonly hash: string;
}

export interface DomainEvent<T extends string = string, D extends EventData = EventData> {
  readonly type: T;
  readonly data: D;
}

export interface NewEvent extends DomainEvent {
  readonly metadata: EventContext;
}

export interface RecordedEvent extends DomainEvent {
  readonly stream: string;
  /** Zero-based revision within the stream, as EventStoreDB numbers them. */
  readonly revision: number;
  /** Global position in the store, opaque but ordered (see position.ts). */
  readonly position: string;
  readonly metadata: EventMetadata;
}
