import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type CurrentRevision,
  type EventData as EsdbEventData,
  type Filter,
  type Position,
  type ReadPosition,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type { EventData, EventMetadata, NewEvent, RecordedEvent } from '../../kernel/event-envelope.js';
import { formatPosition, parsePosition } from '../../kernel/position.js';
import {
  WrongExpectedRevisionError,
  type AppendResult,
  type Delivery,
  type EventHandler,
  type EventStore,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type Subscription,
  type SubscriptionOptions,
} from '../../ports/event-store.port.js';
import { actualRevision, assertAppendable, chainedMetadata } from './append-rules.js';
import {
  DEFAULT_BACKOFF,
  backoffDelay,
  deliverUntilHandled,
  reportSubscriptionError,
  sleepUnlessAborted,
  type BackoffPolicy,
} from './retry-backoff.js';

export interface EsdbEventStoreOptions {
  /** Backoff between redeliveries of a failed handler call and between resubscriptions. */
  readonly retry?: BackoffPolicy;
  /** Events per $all page when reading with a client-side filter. */
  readonly pageSize?: number;
}

/** 'any'/'stream_exists' are pinned to the revision we chained to; a racing writer costs a re-read. */
const MAX_PINNED_ATTEMPTS = 5;
const PING_DEADLINE_MS = 2_000;
/** Stream reads on servers before 22.6 report this sentinel instead of a position. */
const UNKNOWN_POSITION = 2n ** 64n - 1n;

/* ---------- Pure mappings between the port and the client (exported for unit tests) ---------- */

export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    case 'any':
      return ANY;
    default:
      return BigInt(expected);
  }
}

/** The revision our append pins to: the exact last revision read, or "no stream" when there was none. */
export function pinnedRevision(current: number): AppendExpectedRevision {
  return current < 0 ? NO_STREAM : BigInt(current);
}

export function fromEsdbCurrentRevision(current: CurrentRevision): number | 'no_stream' {
  return current === NO_STREAM ? 'no_stream' : Number(current);
}

export function toWrongExpectedRevisionError(
  error: Pick<WrongExpectedVersionError, 'streamName' | 'actualVersion'>,
  expected: ExpectedRevision,
): WrongExpectedRevisionError {
  return new WrongExpectedRevisionError(error.streamName, expected, fromEsdbCurrentRevision(error.actualVersion));
}

export function fromEsdbPosition(position: Position): string {
  return formatPosition(position);
}

export function toEsdbPosition(position: string): Position {
  return parsePosition(position);
}

export function isKnownPosition(position: Position | undefined): position is Position {
  return position !== undefined && position.commit >= 0n && position.commit !== UNKNOWN_POSITION;
}

export function isSystemEvent(event: { readonly streamId: string; readonly type: string }): boolean {
  return event.streamId.startsWith('$') || event.type.startsWith('$');
}

export function matchesFilter(
  event: Pick<RecordedEvent, 'stream' | 'type'>,
  filter: Pick<ReadAllOptions, 'types' | 'streamPrefix'>,
): boolean {
  if (filter.types && !filter.types.includes(event.type)) return false;
  if (filter.streamPrefix !== undefined && !event.stream.startsWith(filter.streamPrefix)) return false;
  return true;
}

/**
 * The server applies one filter; the adapter re-checks all of them client-side (matchesFilter),
 * so the server filter only has to be a superset of what the caller asked for.
 */
export function subscriptionFilter(filter: Pick<ReadAllOptions, 'types' | 'streamPrefix'>): Filter {
  if (filter.types) return eventTypeFilter({ regex: `^(?:${filter.types.map(escapeRegex).join('|')})$` });
  if (filter.streamPrefix !== undefined) return streamNameFilter({ prefixes: [filter.streamPrefix] });
  return excludeSystemEvents();
}

/** Our metadata, plus the keys EventStoreDB's $by_correlation_id projection reads. */
export function toEsdbEventData(event: NewEvent, metadata: EventMetadata): EsdbEventData {
  return jsonEvent({
    id: event.metadata.eventId,
    type: event.type,
    data: event.data,
    metadata: { ...metadata, $correlationId: metadata.correlationId, $causationId: metadata.causationId },
  });
}

/** Null for system events and anything not written by this adapter (non-JSON payloads). */
export function fromEsdbEvent(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | null {
  const event = resolved.event;
  if (!event || isSystemEvent(event) || !event.isJson) return null;
  const position = isKnownPosition(event.position)
    ? event.position
    : resolved.commitPosition !== undefined
      ? { commit: resolved.commitPosition, prepare: resolved.commitPosition }
      : undefined;
  if (!isKnownPosition(position)) throw new Error('EventStoreDB did not report a position: server 22.6 or later required');
  return {
    stream: event.streamId,
    revision: Number(event.revision),
    position: fromEsdbPosition(position),
    type: event.type,
    data: event.data as EventData,
    metadata: fromEsdbMetadata(event.metadata),
  };
}

export function fromEsdbMetadata(raw: unknown): EventMetadata {
  const stored = (raw ?? {}) as Partial<EventMetadata>;
  return {
    eventId: String(stored.eventId ?? ''),
    occurredAt: String(stored.occurredAt ?? ''),
    actor: stored.actor ?? { id: '', roles: [] },
    correlationId: String(stored.correlationId ?? ''),
    causationId: String(stored.causationId ?? ''),
    schemaVersion: Number(stored.schemaVersion ?? 0),
    prevHash: String(stored.prevHash ?? ''),
    hash: String(stored.hash ?? ''),
  };
}

/** Same ids in the same order as the newest stored events: a retry of an append that already landed. */
export function isRetryOf(events: readonly NewEvent[], newestFirst: readonly RecordedEvent[]): boolean {
  if (newestFirst.length !== events.length) return false;
  const stored = [...newestFirst].reverse();
  return events.every((event, index) => stored[index]?.metadata.eventId === event.metadata.eventId);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function comparePosition(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

/* ---------- The adapter ---------- */

interface AllStreamPage {
  readonly events: readonly AllStreamResolvedEvent[];
  readonly exhausted: boolean;
  readonly last: Position | undefined;
}

type Anchor =
  | { readonly kind: 'retried'; readonly result: AppendResult }
  | { readonly kind: 'append'; readonly current: number; readonly prevHash: string };

/**
 * Event store on EventStoreDB / KurrentDB (production profile). The hash chain needs the previous
 * event's hash, so every append reads its anchor first and then writes with the exact revision it
 * chained to: the server's optimistic check is what keeps the chain linear under concurrency.
 */
export class EsdbEventStore implements EventStore {
  private readonly subscriptions = new Set<EsdbSubscription>();
  private readonly retry: BackoffPolicy;
  private readonly pageSize: number;

  constructor(
    private readonly client: EventStoreDBClient,
    options: EsdbEventStoreOptions = {},
  ) {
    this.retry = options.retry ?? DEFAULT_BACKOFF;
    this.pageSize = options.pageSize ?? 500;
  }

  static fromConnectionString(connectionString: string, options: EsdbEventStoreOptions = {}): EsdbEventStore {
    return new EsdbEventStore(EventStoreDBClient.connectionString(connectionString), options);
  }

  async append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    assertAppendable(events, expected);
    const pinnedByCaller = expected === 'no_stream' || typeof expected === 'number';
    for (let attempt = 1; ; attempt++) {
      const anchor = await this.anchor(stream, events, expected);
      if (anchor.kind === 'retried') return anchor.result;
      const expectedRevision = pinnedByCaller ? toEsdbExpectedRevision(expected) : pinnedRevision(anchor.current);
      try {
        return await this.appendAt(stream, events, anchor, expectedRevision);
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        if (pinnedByCaller || attempt >= MAX_PINNED_ATTEMPTS) throw toWrongExpectedRevisionError(error, expected);
      }
    }
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    if (options.limit === 0) return [];
    const backwards = options.direction === 'backwards';
    const read = this.client.readStream(stream, {
      direction: backwards ? BACKWARDS : FORWARDS,
      fromRevision: options.fromRevision !== undefined ? BigInt(options.fromRevision) : backwards ? END : START,
      ...(options.limit !== undefined ? { maxCount: options.limit } : {}),
    });
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of read) {
        const event = fromEsdbEvent(resolved);
        if (event) events.push(event);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  /** The client reads $all unfiltered, so filtering is client-side, page by page, after `after`. */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const results: RecordedEvent[] = [];
    let after = options.after !== undefined ? toEsdbPosition(options.after) : undefined;
    while (results.length < limit) {
      const page = await this.readAllPage(after);
      for (const resolved of page.events) {
        const event = fromEsdbEvent(resolved);
        if (event && matchesFilter(event, options)) results.push(event);
        if (results.length >= limit) break;
      }
      if (page.exhausted || !page.last) break;
      after = page.last;
    }
    return results;
  }

  subscribe(handler: EventHandler, options: SubscriptionOptions = {}): Subscription {
    const subscription = new EsdbSubscription(this.client, handler, options, this.retry, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<string | null> {
    let before: ReadPosition = END;
    for (;;) {
      const page: AllStreamResolvedEvent[] = await collect(
        this.client.readAll({ direction: BACKWARDS, fromPosition: before, maxCount: this.pageSize }),
      );
      const newest = page.map((resolved) => resolved.event).find((event) => event && !isSystemEvent(event));
      if (newest) return fromEsdbPosition(newest.position);
      const oldest: Position | undefined = page.at(-1)?.event?.position;
      if (page.length < this.pageSize || !oldest) return null;
      before = oldest;
    }
  }

  async ping(): Promise<boolean> {
    try {
      await collect(this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, deadline: PING_DEADLINE_MS }));
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await this.client.dispose();
  }

  /**
   * Where the new events chain on. An exact revision reads the event at that revision, not the
   * stream's end: if the same ids already follow it, the server itself recognises the retry.
   * 'any'/'stream_exists' have no revision the server could check, so a retry is recognised here.
   */
  private async anchor(stream: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<Anchor> {
    if (expected === 'no_stream') return { kind: 'append', current: -1, prevHash: '' };
    if (typeof expected === 'number') {
      const [at] = await this.readStream(stream, { fromRevision: expected, limit: 1 });
      if (at?.revision === expected) return { kind: 'append', current: expected, prevHash: at.metadata.hash };
      const [last] = await this.readStream(stream, { direction: 'backwards', limit: 1 });
      throw new WrongExpectedRevisionError(stream, expected, actualRevision(last?.revision ?? -1));
    }
    const newest = await this.readStream(stream, { direction: 'backwards', limit: events.length });
    const last = newest[0];
    if (!last) {
      if (expected === 'stream_exists') throw new WrongExpectedRevisionError(stream, expected, 'no_stream');
      return { kind: 'append', current: -1, prevHash: '' };
    }
    if (isRetryOf(events, newest)) {
      return { kind: 'retried', result: { nextRevision: last.revision, position: last.position } };
    }
    return { kind: 'append', current: last.revision, prevHash: last.metadata.hash };
  }

  private async appendAt(
    stream: string,
    events: readonly NewEvent[],
    anchor: { readonly current: number; readonly prevHash: string },
    expectedRevision: AppendExpectedRevision,
  ): Promise<AppendResult> {
    let hash = anchor.prevHash;
    const data = events.map((event, index) => {
      const metadata = chainedMetadata(stream, anchor.current + 1 + index, event, hash);
      hash = metadata.hash;
      return toEsdbEventData(event, metadata);
    });
    const result = await this.client.appendToStream(stream, data, { expectedRevision });
    const nextRevision = Number(result.nextExpectedRevision);
    // A multi-event write reports its commit position, and an idempotent one none at all; the
    // port promises the last event's own position, which read-your-writes compares against.
    const position =
      events.length === 1 && isKnownPosition(result.position)
        ? fromEsdbPosition(result.position)
        : await this.positionOf(stream, nextRevision);
    return { nextRevision, position };
  }

  private async positionOf(stream: string, revision: number): Promise<string> {
    const [event] = await this.readStream(stream, { fromRevision: revision, limit: 1 });
    if (!event) throw new Error(`stream ${stream}: appended revision ${revision} is not readable`);
    return event.position;
  }

  /** One page of $all strictly after `after` (the server's read includes its start position). */
  private async readAllPage(after: Position | undefined): Promise<AllStreamPage> {
    const raw = await collect(
      this.client.readAll({ direction: FORWARDS, fromPosition: after ?? START, maxCount: this.pageSize }),
    );
    return {
      events: after ? raw.filter((resolved) => resolved.event && comparePosition(resolved.event.position, after) > 0) : raw,
      exhausted: raw.length < this.pageSize,
      last: raw.at(-1)?.event?.position,
    };
  }
}

async function collect<T>(read: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of read) items.push(item);
  return items;
}

/** The client's iterator does not say whether it has buffered the next event, so never promise one. */
const NOT_KNOWN_TO_FOLLOW: Delivery = { more: false };

/**
 * A catch-up subscription to $all that survives drops: it resubscribes with backoff from the last
 * event the handler finished (never from checkpointReached, which can run ahead of buffered,
 * unhandled events), because the client does not resubscribe by itself.
 */
class EsdbSubscription implements Subscription {
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;
  private live: AllStreamSubscription | null = null;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly handler: EventHandler,
    private readonly options: SubscriptionOptions,
    private readonly retry: BackoffPolicy,
    private readonly onStopped: () => void,
  ) {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.live?.unsubscribe().catch(() => undefined);
    await this.done;
  }

  private async run(): Promise<void> {
    let after = this.options.after;
    let failures = 0;
    await Promise.resolve();
    while (!this.abort.signal.aborted) {
      const progress = await this.consume(after);
      if (progress.handledUpTo !== after) failures = 0;
      after = progress.handledUpTo;
      if (this.abort.signal.aborted) break;
      this.reportError(progress.error ?? new Error('subscription to $all ended unexpectedly'));
      await sleepUnlessAborted(backoffDelay(++failures, this.retry), this.abort.signal);
    }
    this.onStopped();
  }

  private async consume(after: string | undefined): Promise<{ handledUpTo: string | undefined; error?: unknown }> {
    const subscription = this.client.subscribeToAll({
      fromPosition: after !== undefined ? toEsdbPosition(after) : START,
      filter: subscriptionFilter(this.options),
    });
    this.live = subscription;
    let handledUpTo = after;
    try {
      if (this.abort.signal.aborted) return { handledUpTo };
      for await (const resolved of subscription) {
        const event = fromEsdbEvent(resolved);
        if (!event || !matchesFilter(event, this.options)) continue;
        const handled = await deliverUntilHandled(
          (item: RecordedEvent) => this.handler(item, NOT_KNOWN_TO_FOLLOW),
          event,
          this.retry,
          this.abort.signal,
          (error) => this.reportError(error),
        );
        if (!handled) break;
        handledUpTo = event.position;
      }
      return { handledUpTo };
    } catch (error) {
      return { handledUpTo, error };
    } finally {
      this.live = null;
      await subscription.unsubscribe().catch(() => undefined);
    }
  }

  private reportError(error: unknown): void {
    reportSubscriptionError(this.options.onError, error);
  }
}
