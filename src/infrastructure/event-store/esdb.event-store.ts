import {
  ANY,
  BACKWARDS,
  END,
  ErrorType,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  isCommandError,
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
  type StreamingRead,
} from '@eventstore/db-client';
import { DomainError } from '../../kernel/domain-error.js';
import type { EventData, EventMetadata, NewEvent, RecordedEvent } from '../../kernel/event-envelope.js';
import { formatPosition, parsePosition } from '../../kernel/position.js';
import {
  EventIdConflictError,
  WrongExpectedRevisionError,
  type AppendOptions,
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
import { actualRevision, assertAppendable, chainedMetadata, lastEventHolds } from './append-rules.js';
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
  /** Events per $all page (unfiltered reads) and per stream page (finding a retry by id). */
  readonly pageSize?: number;
  /**
   * Longest a read, an append or a filtered scan may take; past it the call fails as 503
   * `event_store_unavailable`. The client itself sends reads and subscriptions with no deadline.
   */
  readonly deadlineMs?: number;
  /** Longest ping() waits before answering false (what /health/ready reports). */
  readonly pingDeadlineMs?: number;
}

/** 'any'/'stream_exists' are pinned to the revision we chained to; a racing writer costs a re-read. */
const MAX_PINNED_ATTEMPTS = 5;
const DEFAULT_DEADLINE_MS = 5_000;
const DEFAULT_PING_DEADLINE_MS = 2_000;
/** headPosition reads $all backwards in small pages: the newest event of ours is nearly always on the first. */
const HEAD_PAGE = 32;
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
export function subscriptionFilter(
  filter: Pick<ReadAllOptions, 'types' | 'streamPrefix'>,
  checkpointReached?: Filter['checkpointReached'],
): Filter {
  const progress = checkpointReached ? { checkpointReached } : {};
  if (filter.types) return eventTypeFilter({ regex: `^(?:${filter.types.map(escapeRegex).join('|')})$`, ...progress });
  if (filter.streamPrefix !== undefined) return streamNameFilter({ prefixes: [filter.streamPrefix], ...progress });
  return excludeSystemEvents(progress);
}

/** Whether the caller asked for a filter the server can apply (otherwise $all is read page by page). */
export function isFiltered(options: Pick<ReadAllOptions, 'types' | 'streamPrefix'>): boolean {
  return options.types !== undefined || options.streamPrefix !== undefined;
}

export function eventStoreUnavailable(): DomainError {
  return new DomainError('unavailable', 'event_store_unavailable', 'The event store did not answer in time; retry shortly.', {
    retryAfterSeconds: 1,
  });
}

const UNREACHABLE: ReadonlySet<ErrorType> = new Set([ErrorType.UNAVAILABLE, ErrorType.DEADLINE_EXCEEDED, ErrorType.TIMEOUT]);

/** The client's "cannot reach the server" errors are an outage (503), not a bug (500). */
export function asUnavailable(error: unknown): unknown {
  return error instanceof Error && isCommandError(error) && UNREACHABLE.has(error.type) ? eventStoreUnavailable() : error;
}

/**
 * Our own timer around a client call: on expiry the call is cancelled and the caller gets
 * `event_store_unavailable`, whatever the client would have done (it waits forever on reads).
 */
export function withinDeadline<T>(work: Promise<T>, deadlineMs: number, cancel: () => void = () => undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      cancel();
      reject(eventStoreUnavailable());
    }, deadlineMs);
  });
  const mapped = work.catch((error: unknown) => {
    throw asUnavailable(error);
  });
  return Promise.race([mapped, expired]).finally(() => clearTimeout(timer));
}

/** The newest event in a backwards page of $all that a subscriber of ours would ever deliver. */
export function newestOwnPosition(newestFirst: readonly AllStreamResolvedEvent[]): Position | null {
  const own = newestFirst.map((resolved) => resolved.event).find((event) => event !== undefined && event.isJson && !isSystemEvent(event));
  return own?.position ?? null;
}

/**
 * Reads a subscription one accepted item ahead without waiting on the network: `buffered()`
 * answers from what the client has already received, so a Delivery can promise a next event only
 * when one is truly held.
 */
export class BufferedEvents<T> {
  private readonly iterator: AsyncIterator<unknown>;

  constructor(
    private readonly source: AsyncIterable<unknown> & { readonly readableLength: number },
    private readonly accept: (item: unknown) => T | null,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** The next accepted item, waiting for it; null once the source has ended. */
  async next(): Promise<T | null> {
    for (;;) {
      const read = await this.iterator.next();
      if (read.done) return null;
      const item = this.accept(read.value);
      if (item !== null) return item;
    }
  }

  /** The next accepted item among those already received, or null without waiting. */
  async buffered(): Promise<T | null> {
    while (this.source.readableLength > 0) {
      const read = await this.iterator.next();
      if (read.done) return null;
      const item = this.accept(read.value);
      if (item !== null) return item;
    }
    return null;
  }
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
 * Every call runs under the adapter's deadline (see withinDeadline).
 */
export class EsdbEventStore implements EventStore {
  private readonly subscriptions = new Set<EsdbSubscription>();
  private readonly retry: BackoffPolicy;
  private readonly pageSize: number;
  private readonly deadlineMs: number;
  private readonly pingDeadlineMs: number;
  /** Each stream's newest append of this adapter still in flight (see append). */
  private readonly appending = new Map<string, Promise<unknown>>();

  constructor(
    private readonly client: EventStoreDBClient,
    options: EsdbEventStoreOptions = {},
  ) {
    this.retry = options.retry ?? DEFAULT_BACKOFF;
    this.pageSize = options.pageSize ?? 500;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.pingDeadlineMs = options.pingDeadlineMs ?? DEFAULT_PING_DEADLINE_MS;
  }

  static fromConnectionString(connectionString: string, options: EsdbEventStoreOptions = {}): EsdbEventStore {
    return new EsdbEventStore(EventStoreDBClient.connectionString(connectionString), options);
  }

  /**
   * An append that names the last event it expects waits first for this adapter's append in flight
   * on the stream, which is usually the one that writes that event: checked before it has
   * committed, the event would be missing and the append refused. The server's expected revision
   * then makes the check atomic, as the event at that revision can no longer change.
   */
  append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision, options: AppendOptions = {}): Promise<AppendResult> {
    const before = options.expectedLastEventId === undefined ? undefined : this.appending.get(stream);
    const appended = (async () => {
      // Whatever became of it: this append's own checks decide.
      if (before) await before.catch(() => undefined);
      return this.appendNow(stream, events, expected, options);
    })();
    this.appending.set(stream, appended);
    const forget = (): void => {
      if (this.appending.get(stream) === appended) this.appending.delete(stream);
    };
    appended.then(forget, forget);
    return appended;
  }

  private async appendNow(stream: string, events: readonly NewEvent[], expected: ExpectedRevision, options: AppendOptions): Promise<AppendResult> {
    assertAppendable(events, expected, options);
    const pinnedByCaller = expected === 'no_stream' || typeof expected === 'number';
    for (let attempt = 1; ; attempt++) {
      const anchor = await this.anchor(stream, events, expected, options);
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
    try {
      const resolved = await this.collect(read);
      return resolved.map(fromEsdbEvent).filter((event): event is RecordedEvent => event !== null);
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
  }

  /**
   * Filtered reads let the server filter (a filtered catch-up subscription: client 6.2.1 reads
   * $all only unfiltered) and stop at the head seen when the read began; unfiltered reads page
   * through $all. Either way the read ends at `limit` events or fails at the deadline.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    if (options.limit === 0) return [];
    if (isFiltered(options)) {
      const end = await this.endOfAll();
      return end === null ? [] : this.scanFiltered(options, end);
    }
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const results: RecordedEvent[] = [];
    let after = options.after !== undefined ? toEsdbPosition(options.after) : undefined;
    while (results.length < limit) {
      const page = await this.readAllPage(after);
      for (const resolved of page.events) {
        const event = fromEsdbEvent(resolved);
        if (event) results.push(event);
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

  /** The newest event a subscriber would deliver: system and non-JSON events are skipped, as subscribers skip them. */
  async headPosition(): Promise<string | null> {
    let before: ReadPosition = END;
    for (;;) {
      const page: AllStreamResolvedEvent[] = await this.collect(this.client.readAll({ direction: BACKWARDS, fromPosition: before, maxCount: HEAD_PAGE }));
      const newest = newestOwnPosition(page);
      if (newest) return fromEsdbPosition(newest);
      const oldest: Position | undefined = page.at(-1)?.event?.position;
      if (page.length < HEAD_PAGE || !oldest) return null;
      before = oldest;
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.collect(this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }), this.pingDeadlineMs);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await this.client.dispose();
  }

  /** Where the new events chain on, unless they are a retry of an append already stored. */
  private async anchor(stream: string, events: readonly NewEvent[], expected: ExpectedRevision, options: AppendOptions): Promise<Anchor> {
    const retried = await this.findRetry(stream, events, expected);
    if (retried) return { kind: 'retried', result: retried };
    if (expected === 'no_stream') return { kind: 'append', current: -1, prevHash: '' };
    if (typeof expected === 'number') {
      const [at] = await this.readStream(stream, { fromRevision: expected, limit: 1 });
      if (at?.revision === expected && lastEventHolds(options, at.metadata.eventId)) return { kind: 'append', current: expected, prevHash: at.metadata.hash };
      const [last] = await this.readStream(stream, { direction: 'backwards', limit: 1 });
      throw new WrongExpectedRevisionError(stream, expected, actualRevision(last?.revision ?? -1));
    }
    const [last] = await this.readStream(stream, { direction: 'backwards', limit: 1 });
    if (!last) {
      if (expected === 'stream_exists') throw new WrongExpectedRevisionError(stream, expected, 'no_stream');
      return { kind: 'append', current: -1, prevHash: '' };
    }
    return { kind: 'append', current: last.revision, prevHash: last.metadata.hash };
  }

  /**
   * A retry found by event id, as the SQLite adapter finds it, for every expectation: right after
   * the revision the caller pinned (the only place the first attempt could have landed), or
   * anywhere in the stream for 'any'/'stream_exists' (linear in the stream's length; the service's
   * command handlers always pin a revision). Ids stored only in part are an EventIdConflictError.
   */
  private async findRetry(stream: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult | null> {
    const firstId = events[0]!.metadata.eventId;
    const first =
      expected === 'no_stream' || typeof expected === 'number'
        ? (await this.readStream(stream, { fromRevision: expected === 'no_stream' ? 0 : expected + 1, limit: 1 }))[0]
        : await this.findInStream(stream, firstId);
    if (first?.metadata.eventId !== firstId) return null;
    const stored = await this.readStream(stream, { fromRevision: first.revision, limit: events.length });
    const mismatch = events.findIndex((event, index) => stored[index]?.metadata.eventId !== event.metadata.eventId);
    if (mismatch >= 0) throw new EventIdConflictError(stream, events[mismatch]!.metadata.eventId);
    const last = stored.at(-1)!;
    return { nextRevision: last.revision, position: last.position };
  }

  private async findInStream(stream: string, eventId: string): Promise<RecordedEvent | undefined> {
    let from: number | undefined;
    for (;;) {
      const page: RecordedEvent[] = await this.readStream(stream, { direction: 'backwards', limit: this.pageSize, ...(from === undefined ? {} : { fromRevision: from }) });
      const found = page.find((event) => event.metadata.eventId === eventId);
      if (found) return found;
      const oldest = page.at(-1);
      if (!oldest || oldest.revision === 0 || page.length < this.pageSize) return undefined;
      from = oldest.revision - 1;
    }
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
    // An append cut off by the deadline may still land: the caller's retry is then found by id.
    const result = await withinDeadline(
      this.client.appendToStream(stream, data, { expectedRevision, deadline: this.deadlineMs }),
      this.deadlineMs,
    );
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
    const raw = await this.collect(this.client.readAll({ direction: FORWARDS, fromPosition: after ?? START, maxCount: this.pageSize }));
    return {
      events: after ? raw.filter((resolved) => resolved.event && comparePosition(resolved.event.position, after) > 0) : raw,
      exhausted: raw.length < this.pageSize,
      last: raw.at(-1)?.event?.position,
    };
  }

  /** Position of the newest record in $all, whatever it is: where a filtered read stops. */
  private async endOfAll(): Promise<Position | null> {
    const [newest] = await this.collect(this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }));
    return newest?.event?.position ?? null;
  }

  /**
   * The server sends only matching events, plus checkpoints while it searches; the scan ends at
   * `limit` events, at `end`, or when the server says the subscription caught up (servers before
   * 23.10 send a checkpoint there instead), and fails at the deadline.
   */
  private scanFiltered(options: ReadAllOptions, end: Position): Promise<RecordedEvent[]> {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const results: RecordedEvent[] = [];
    let settled = false;
    let settle: (error?: unknown) => void = () => undefined;
    const scanned = new Promise<RecordedEvent[]>((resolve, reject) => {
      settle = (error?: unknown) => {
        if (settled) return;
        settled = true;
        void subscription.unsubscribe().catch(() => undefined);
        if (error === undefined) resolve(results);
        else reject(error);
      };
    });
    const subscription = this.client.subscribeToAll({
      fromPosition: options.after !== undefined ? toEsdbPosition(options.after) : START,
      filter: subscriptionFilter(options, async (_subscription, position) => {
        if (comparePosition(position, end) >= 0) settle();
      }),
    });
    subscription.on('data', (resolved: AllStreamResolvedEvent) => {
      if (settled) return;
      const position = resolved.event?.position;
      if (position && comparePosition(position, end) > 0) return settle();
      try {
        const event = fromEsdbEvent(resolved);
        if (event && matchesFilter(event, options)) results.push(event);
      } catch (error) {
        return settle(error);
      }
      if (results.length >= limit || (position && comparePosition(position, end) === 0)) settle();
    });
    subscription.on('caughtUp', () => settle());
    subscription.on('end', () => settle());
    subscription.on('error', (error: unknown) => settle(error));
    return withinDeadline(scanned, this.deadlineMs, () => settle(eventStoreUnavailable()));
  }

  /** Reads to the end under the deadline; on expiry the gRPC call is cancelled, not left running. */
  private collect<T>(read: StreamingRead<T>, deadlineMs = this.deadlineMs): Promise<T[]> {
    return withinDeadline(collect(read), deadlineMs, () => {
      void read.cancel().catch(() => undefined);
      read.destroy();
    });
  }
}

async function collect<T>(read: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of read) items.push(item);
  return items;
}

const MORE_HELD: Delivery = { more: true };
const NONE_HELD: Delivery = { more: false };

/**
 * A catch-up subscription to $all that survives drops: it resubscribes with backoff from the last
 * event the handler finished (never from checkpointReached, which can run ahead of buffered,
 * unhandled events), because the client does not resubscribe by itself. `more` is true exactly
 * when the next matching event is already in the client's buffer (BufferedEvents).
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
    const upcoming = new BufferedEvents<RecordedEvent>(subscription, (resolved) => this.accept(resolved as AllStreamResolvedEvent));
    let handledUpTo = after;
    try {
      if (this.abort.signal.aborted) return { handledUpTo };
      let event = await upcoming.next();
      while (event) {
        const following = await upcoming.buffered();
        const delivery = following ? MORE_HELD : NONE_HELD;
        const handled = await deliverUntilHandled(
          (item: RecordedEvent) => this.handler(item, delivery),
          event,
          this.retry,
          this.abort.signal,
          (error) => this.reportError(error),
        );
        if (!handled) break;
        handledUpTo = event.position;
        event = following ?? (await upcoming.next());
      }
      return { handledUpTo };
    } catch (error) {
      return { handledUpTo, error };
    } finally {
      this.live = null;
      await subscription.unsubscribe().catch(() => undefined);
    }
  }

  private accept(resolved: AllStreamResolvedEvent): RecordedEvent | null {
    const event = fromEsdbEvent(resolved);
    return event && matchesFilter(event, this.options) ? event : null;
  }

  private reportError(error: unknown): void {
    reportSubscriptionError(this.options.onError, error);
  }
}
