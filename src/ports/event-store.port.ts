import type { NewEvent, RecordedEvent } from '../kernel/event-envelope.js';

/** Expected revision semantics of EventStoreDB, enforced identically by every adapter. */
export type ExpectedRevision = 'no_stream' | 'stream_exists' | 'any' | number;

export interface AppendResult {
  /** Revision of the last event now in the stream. */
  readonly nextRevision: number;
  /** Global position of the last event written. */
  readonly position: string;
}

export class WrongExpectedRevisionError extends Error {
  override readonly name = 'WrongExpectedRevisionError';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** Current last revision, or 'no_stream' when the stream does not exist. */
    readonly actual: number | 'no_stream',
  ) {
    super(`stream ${stream}: expected revision ${expected}, actual ${actual}`);
  }
}

/**
 * Event ids are unique within a stream. An append whose ids are all stored, in order, where the
 * caller's expectation puts them is a retry and answers with the stored result; ids that match
 * stored ones only partly are this error. It is not a concurrency conflict: retrying cannot
 * succeed. The same id in another stream is another event (EventStoreDB checks ids per stream).
 */
export class EventIdConflictError extends Error {
  override readonly name = 'EventIdConflictError';
  constructor(
    readonly stream: string,
    readonly eventId: string,
  ) {
    super(`stream ${stream}: event id ${eventId} conflicts with an event already stored`);
  }
}

export interface AppendOptions {
  /**
   * With a numeric expected revision: the stream's last event must also be this one, else the
   * append fails with WrongExpectedRevisionError and writes nothing. A revision alone names a
   * place, not what is there: an append decided on a state that an earlier append of the same
   * process leaves, issued before that one has committed, must not land on an event another writer
   * put at the same revision after the earlier one failed. An adapter may hold such an append until
   * its own earlier append to the stream has settled; it never commits it on any other event.
   */
  readonly expectedLastEventId?: string;
}

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive; defaults to the start (forwards) or the end (backwards). */
  readonly fromRevision?: number;
  readonly limit?: number;
}

export interface ReadAllOptions {
  /** Exclusive: only events after this position. Omit to start at the beginning. */
  readonly after?: string;
  readonly limit?: number;
  readonly types?: readonly string[];
  readonly streamPrefix?: string;
}

export interface SubscriptionOptions {
  /** Exclusive: resume after this position. Omit to start at the beginning. */
  readonly after?: string;
  readonly types?: readonly string[];
  readonly streamPrefix?: string;
  /** Called when the subscription drops; the adapter keeps resubscribing with backoff. */
  readonly onError?: (error: unknown) => void;
  /**
   * The subscriber's writes are waited for as they happen (the enforcement projection): an adapter
   * that learns of other processes' appends by polling looks for them more often on its behalf.
   */
  readonly urgent?: boolean;
}

export interface Delivery {
  /**
   * True when the adapter already holds the next matching event and delivers it as soon as this
   * handler call resolves: the handler may stage this event and commit it with the next one.
   * False gives no promise about when the next event comes.
   */
  readonly more: boolean;
}

export type EventHandler = (event: RecordedEvent, delivery: Delivery) => Promise<void>;

export interface Subscription {
  /** Stops delivering; resolves once no handler call is in flight. */
  stop(): Promise<void>;
}

/**
 * The event store port. Handlers passed to subscribe() are awaited one at a time, in position
 * order; an event is never delivered twice within one subscription and never skipped.
 * If the handler throws, the subscription retries the same event with backoff.
 */
export interface EventStore {
  append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision, options?: AppendOptions): Promise<AppendResult>;
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribe(handler: EventHandler, options?: SubscriptionOptions): Subscription;
  /** Position of the newest event, or null when the store is empty. */
  headPosition(): Promise<string | null>;
  /** True when the backing server answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
