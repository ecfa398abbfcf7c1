import type { EventMetadata, NewEvent, RecordedEvent } from '../../kernel/event-envelope.js';
import { LruMap } from '../../kernel/lru.map.js';
import { parsePosition } from '../../kernel/position.js';
import type { Statement } from 'better-sqlite3';
import { LOCK_WAIT_MS, writeLockReleased, type SqliteDatabase } from '../sqlite/sqlite.database.js';
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
import { actualRevision, assertAppendable, chainedMetadata, expectationHolds, lastEventHolds } from './append-rules.js';
import { SqliteEventWriter, type PreparedAppend, type WriteOutcome } from './sqlite.event-writer.js';
import {
  DEFAULT_BACKOFF,
  backoffDelay,
  deliverUntilHandled,
  reportSubscriptionError,
  sleepUnlessAborted,
  type BackoffPolicy,
} from './retry-backoff.js';

export interface SqliteEventStoreOptions {
  /** How often the store looks for writes from other processes on the same file while a subscription is open. */
  readonly pollIntervalMs?: number;
  /** The same while an urgent subscription is open; the others are still woken at most every pollIntervalMs. */
  readonly urgentPollIntervalMs?: number;
  /** How often an idle subscription reads by itself, in case a wake was missed. */
  readonly fallbackPollMs?: number;
  /** Backoff between redeliveries of an event whose handler threw. */
  readonly retry?: BackoffPolicy;
  /** Events read per catch-up page. */
  readonly pageSize?: number;
}

interface EventRow {
  position: number;
  stream: string;
  revision: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
}

/** Event ids are unique per stream (the port's contract, and what EventStoreDB checks). */
const eventsTable = (name: string): string => `
  CREATE TABLE IF NOT EXISTS ${name} (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    revision INTEGER NOT NULL CHECK (revision >= 0),
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL CHECK (json_valid(data)),
    metadata TEXT NOT NULL CHECK (json_valid(metadata)),
    UNIQUE (stream, revision),
    UNIQUE (stream, event_id)
  ) STRICT;
`;
const SCHEMA = `${eventsTable('events')}
  CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);
`;

/**
 * Files from before ids were unique per stream carry a global UNIQUE on event_id: the table is
 * rebuilt once, in one IMMEDIATE transaction (another process may open the file at the same
 * time), keeping every row, its position and the AUTOINCREMENT counter.
 */
export function migrateToPerStreamEventIds(db: SqliteDatabase): void {
  const migrate = db.transaction(() => {
    const table = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'").get() as { sql: string } | undefined;
    if (!table || !/event_id TEXT NOT NULL UNIQUE/.test(table.sql)) return;
    const sequence = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
    db.exec(`${eventsTable('events_per_stream_ids')}
      INSERT INTO events_per_stream_ids SELECT ${COLUMNS} FROM events ORDER BY position;
      DROP TABLE events;
      ALTER TABLE events_per_stream_ids RENAME TO events;`);
    if (sequence) db.prepare("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'events'").run(sequence.seq);
  });
  migrate.immediate();
}

const COLUMNS = 'position, stream, revision, event_id, type, data, metadata';
const NO_LIMIT = -1;
const NEXT_IN_PAGE: Delivery = { more: true };
const LAST_IN_PAGE: Delivery = { more: false };

interface PendingAppend {
  readonly stream: string;
  readonly events: readonly NewEvent[];
  readonly expected: ExpectedRevision;
  readonly options: AppendOptions;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
  /** Times another writer moved the stream's head between the decision and the commit. */
  moved: number;
  /** Set once the writer refused an event id: the next decision reads what is stored. */
  readStored: boolean;
}

/** What the main thread decided for one append before anything is written. */
type Decided =
  | { readonly kind: 'answered'; readonly result: AppendResult }
  | { readonly kind: 'next-batch' }
  | { readonly kind: 'write'; readonly prepared: PreparedAppend; readonly head: BatchHead };

/** A stream's head as the batch being decided leaves it, and the event ids the batch adds to it. */
interface BatchHead {
  readonly revision: number;
  /** The id of the stream's last event; null when the stream is empty. */
  readonly lastEventId: string | null;
  readonly hash: string;
  readonly eventIds: ReadonlySet<string>;
}

const NEXT_BATCH: Decided = { kind: 'next-batch' };
const NO_IDS: ReadonlySet<string> = new Set();
/** Streams whose head this store remembers from its own commits (the most recently appended). */
const KNOWN_HEADS = 10_000;
/** Bounds the re-decisions of an append whose stream other processes keep appending to. */
const MAX_MOVES = 10;
/**
 * A projector in another process than the API learns of a command's events only by this poll;
 * its interval adds to every read-your-writes wait and to a host cache's staleness (150 ms before
 * 2026-12-02). One read of the head per interval serves every subscription of the store, so an
 * idle process reads once per interval, not once per subscription. Shorter is not free under
 * load: each wake ends a projection's batch, so subscriptions that are not urgent are woken at
 * most this often even when the head is read more often for an urgent one.
 */
const DEFAULT_POLL_INTERVAL_MS = 25;
/**
 * For urgent subscriptions (the enforcement projection), whose commits hosts' caches and decisions
 * wait for: with that projection committing ahead of the others, 10 ms took the host-cache
 * staleness p50 from 21 to 12 ms and its p99 from 84–111 to 62–78 ms in alternated runs, while
 * the others, still woken every 25 ms, keep their batches.
 */
const DEFAULT_URGENT_POLL_INTERVAL_MS = 10;
/** A subscription looks by itself this often, should a wake be missed (the head read failing). */
const DEFAULT_FALLBACK_POLL_MS = 1_000;

/**
 * Event store on the history's SQLite file (embedded profile). AUTOINCREMENT makes the global position
 * monotonic and never reused; SQLite serialises writers, so a reader never sees position n+1
 * committed while n is still in flight and a subscription can safely resume after the last position.
 * The database belongs to whoever opened it (data keys and idempotency records share it): close()
 * does not close it.
 */
export class SqliteEventStore implements EventStore {
  private readonly subscriptions = new Set<SqliteSubscription>();
  /** Polls the head for appends from other processes while any subscription is open. */
  private headWatch: NodeJS.Timeout | null = null;
  private headWatchEveryMs = 0;
  private readonly statements = new Map<string, Statement>();
  private readonly pollIntervalMs: number;
  private readonly urgentPollIntervalMs: number;
  private readonly fallbackPollMs: number;
  private readonly retry: BackoffPolicy;
  private readonly pageSize: number;
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  private writing: Promise<void> | null = null;
  private closed = false;
  private readonly writer: SqliteEventWriter;
  /**
   * Heads this store committed, so an append to a stream it wrote last is decided without reading
   * the stream first: every read starts a read transaction, and after each commit of the writer
   * thread SQLite drops the connection's page cache, so these reads were about a third of the
   * main thread's time per command under load. A head is only a guess: the writer thread commits
   * an append only if the stream's head is still the one it was decided on, and another
   * process's append sends it back to be decided again on what is stored.
   */
  private readonly knownHeads = new LruMap<string, BatchHead>(KNOWN_HEADS);

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteEventStoreOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.urgentPollIntervalMs = Math.min(options.urgentPollIntervalMs ?? DEFAULT_URGENT_POLL_INTERVAL_MS, this.pollIntervalMs);
    this.fallbackPollMs = options.fallbackPollMs ?? DEFAULT_FALLBACK_POLL_MS;
    this.retry = options.retry ?? DEFAULT_BACKOFF;
    this.pageSize = options.pageSize ?? 500;
    if (db.memory) throw new Error('the SQLite event store needs a database file: its writer thread opens a connection of its own');
    migrateToPerStreamEventIds(db);
    db.exec(SCHEMA);
    this.writer = new SqliteEventWriter({ path: db.name, readonly: db.readonly, lockWaitMs: LOCK_WAIT_MS });
  }

  /**
   * Group commit: appends that arrive while the writer thread commits the previous batch (or in
   * the same turn of the event loop) are decided together and written in one IMMEDIATE
   * transaction, so they share one fsync (synchronous=FULL), each in its own savepoint so that a
   * conflict fails only that append. The event loop keeps serving requests meanwhile. No promise
   * resolves before its commit.
   */
  append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision, options: AppendOptions = {}): Promise<AppendResult> {
    try {
      this.assertOpen();
      assertAppendable(events, expected, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ stream, events, expected, options, resolve, reject, moved: 0, readStored: false });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.writing) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.startFlush();
    });
  }

  private startFlush(): void {
    if (this.writing || this.pending.length === 0) return;
    this.writing = this.flush().finally(() => {
      this.writing = null;
      if (this.pending.length > 0) this.scheduleFlush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    const toWrite: Array<{ readonly append: PendingAppend; readonly decided: Extract<Decided, { kind: 'write' }> }> = [];
    const heads = new Map<string, BatchHead>();
    for (const append of batch) {
      let decided: Decided;
      try {
        decided = this.decide(append, heads);
      } catch (error) {
        append.reject(error);
        continue;
      }
      if (decided.kind === 'answered') append.resolve(decided.result);
      else if (decided.kind === 'next-batch') this.pending.push(append);
      else toWrite.push({ append, decided });
    }
    if (toWrite.length === 0) return;
    let outcomes: WriteOutcome[];
    try {
      outcomes = await this.writer.commit(toWrite.map(({ decided }) => decided.prepared));
    } catch (error) {
      // The commit itself failed (lock timeout, I/O, a full disk): nothing of the batch is stored.
      for (const { append } of toWrite) {
        this.knownHeads.delete(append.stream);
        append.reject(error);
      }
      return;
    } finally {
      // Before the next batch takes the lock again: see writeLockReleased.
      writeLockReleased(this.db.name);
    }
    toWrite.forEach(({ append, decided }, index) => this.settle(append, decided.head, outcomes[index]!));
    // Woken here, the subscriptions read past these appends (and any earlier ones of other
    // processes): the head watch need not wake them again for the same head.
    const committed = Math.max(0, ...outcomes.map((outcome) => (outcome.kind === 'committed' ? outcome.position : 0)));
    for (const subscription of this.subscriptions) subscription.wake(committed);
  }

  /**
   * Decides an append on its stream's head: the head an earlier append of the same batch leaves, the
   * head this store last committed, or else what is stored (also read when the expectation fails on
   * a remembered head, which may be stale). Anything that would depend on whether an earlier append
   * of the batch commits (a failed expectation, a repeated id) waits for the next batch and is
   * decided against what was committed, as if they ran one after the other.
   */
  private decide(append: PendingAppend, batchHeads: Map<string, BatchHead>): Decided {
    const { stream, events } = append;
    const inBatch = batchHeads.get(stream);
    if (inBatch) {
      if (events.some((event) => inBatch.eventIds.has(event.metadata.eventId))) return NEXT_BATCH;
      if (!headHolds(append, inBatch)) return NEXT_BATCH;
      return this.chained(append, inBatch, batchHeads);
    }
    const known = append.readStored ? undefined : this.knownHeads.peek(stream);
    if (known && headHolds(append, known)) return this.chained(append, known, batchHeads);
    // A retried append whose events are already stored is answered with them, not refused.
    const retried = this.findRetriedAppend(stream, events);
    if (retried) return { kind: 'answered', result: retried };
    const head = this.committedHead(stream);
    // Revisions only grow and stored events never change, so an expectation that fails now fails
    // at any later head too.
    if (!headHolds(append, head)) throw new WrongExpectedRevisionError(stream, append.expected, actualRevision(head.revision));
    return this.chained(append, head, batchHeads);
  }

  /** The append's rows chained onto `head` (revisions and hashes), and the head it leaves for the batch. */
  private chained(append: PendingAppend, head: BatchHead, batchHeads: Map<string, BatchHead>): Decided {
    const { stream, events } = append;
    let prevHash = head.hash;
    const rows = events.map((event, index) => {
      const revision = head.revision + 1 + index;
      const metadata = chainedMetadata(stream, revision, event, prevHash);
      prevHash = metadata.hash;
      return { revision, eventId: event.metadata.eventId, type: event.type, data: JSON.stringify(event.data), metadata: JSON.stringify(metadata) };
    });
    const eventIds = new Set(batchHeads.get(stream)?.eventIds);
    for (const event of events) eventIds.add(event.metadata.eventId);
    const after: BatchHead = { revision: head.revision + events.length, lastEventId: events.at(-1)!.metadata.eventId, hash: prevHash, eventIds };
    batchHeads.set(stream, after);
    return { kind: 'write', prepared: { stream, after: head.revision, afterEventId: head.lastEventId, rows }, head: after };
  }

  private committedHead(stream: string): BatchHead {
    const head = this.get<Pick<EventRow, 'revision' | 'event_id' | 'metadata'>>(
      'SELECT revision, event_id, metadata FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
      stream,
    );
    if (!head) return { revision: -1, lastEventId: null, hash: '', eventIds: new Set() };
    return { revision: head.revision, lastEventId: head.event_id, hash: (JSON.parse(head.metadata) as EventMetadata).hash, eventIds: new Set() };
  }

  private settle(append: PendingAppend, head: BatchHead, outcome: WriteOutcome): void {
    switch (outcome.kind) {
      case 'committed':
        this.rememberHead(append.stream, head);
        return append.resolve({ nextRevision: head.revision, position: String(outcome.position) });
      case 'event-id-taken':
        this.knownHeads.delete(append.stream);
        // Decided on a remembered head, the append may be a retry of one stored since by another
        // process: decided again on what is stored, it is answered from it or refused.
        if (!append.readStored) {
          append.readStored = true;
          this.pending.push(append);
          return;
        }
        return append.reject(new EventIdConflictError(append.stream, outcome.eventId));
      case 'moved':
        this.knownHeads.delete(append.stream);
        if (++append.moved > MAX_MOVES) return append.reject(new Error(`stream ${append.stream} kept moving under other writers; retry the command`));
        this.pending.push(append);
        return;
      default: {
        const unexpected: never = outcome;
        throw new Error(`unknown write outcome ${JSON.stringify(unexpected)}`);
      }
    }
  }

  private rememberHead(stream: string, head: BatchHead): void {
    this.knownHeads.set(stream, { revision: head.revision, lastEventId: head.lastEventId, hash: head.hash, eventIds: NO_IDS });
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const limit = options.limit ?? NO_LIMIT;
    const rows =
      options.direction === 'backwards'
        ? this.all<EventRow>(
            `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
            stream,
            options.fromRevision ?? Number.MAX_SAFE_INTEGER,
            limit,
          )
        : this.all<EventRow>(
            `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`,
            stream,
            options.fromRevision ?? 0,
            limit,
          );
    return rows.map(toRecordedEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    return this.readAllSync(options);
  }

  subscribe(handler: EventHandler, options: SubscriptionOptions = {}): Subscription {
    this.assertOpen();
    const subscription = new SqliteSubscription(
      (after) => this.readAllSync({ ...options, after, limit: this.pageSize }),
      handler,
      options,
      { fallbackPollMs: this.fallbackPollMs, retry: this.retry },
      () => {
        this.subscriptions.delete(subscription);
        if (this.subscriptions.size === 0) this.stopHeadWatch();
      },
    );
    this.subscriptions.add(subscription);
    this.startHeadWatch();
    return subscription;
  }

  /**
   * Appends of other processes on the same file reach this process's subscriptions only through
   * this poll: one indexed read of the head per interval, which wakes those behind it: an urgent
   * subscription at every interval, the others at most every pollIntervalMs.
   */
  private startHeadWatch(): void {
    const everyMs = [...this.subscriptions].some((subscription) => subscription.urgent) ? this.urgentPollIntervalMs : this.pollIntervalMs;
    if (this.headWatch && everyMs >= this.headWatchEveryMs) return;
    this.stopHeadWatch();
    this.headWatchEveryMs = everyMs;
    this.headWatch = setInterval(() => this.wakeBehindHead(), everyMs);
    this.headWatch.unref();
  }

  private wakeBehindHead(): void {
    let head: number | null;
    try {
      head = this.get<{ head: number | null }>('SELECT MAX(position) AS head FROM events')?.head ?? null;
    } catch {
      // A failed read (a lock, I/O) is retried at the next tick; the subscriptions' own reads report errors.
      return;
    }
    if (head === null) return;
    const now = Date.now();
    for (const subscription of this.subscriptions) {
      if (subscription.wokenThrough >= head || (!subscription.urgent && now - subscription.wokenAt < this.pollIntervalMs)) continue;
      subscription.wake(head, now);
    }
  }

  private stopHeadWatch(): void {
    if (this.headWatch) clearInterval(this.headWatch);
    this.headWatch = null;
  }

  async headPosition(): Promise<string | null> {
    this.assertOpen();
    const row = this.get<{ head: number | null }>('SELECT MAX(position) AS head FROM events');
    return row?.head == null ? null : String(row.head);
  }

  async ping(): Promise<boolean> {
    if (this.closed || !this.db.open) return false;
    try {
      this.get('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // Appends already accepted are committed, not dropped: the owner may close the database next.
    for (;;) {
      this.startFlush();
      if (!this.writing) break;
      await this.writing;
    }
    await this.writer.close();
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.stopHeadWatch();
  }

  /**
   * A retry, found by id in its stream whatever the expectation: the same ids, in the same order,
   * already at one place in this stream answer with the original result (EventStoreDB's idempotence).
   */
  private findRetriedAppend(stream: string, events: readonly NewEvent[]): AppendResult | null {
    const firstId = events[0]!.metadata.eventId;
    const first = this.get<Pick<EventRow, 'revision'>>('SELECT revision FROM events WHERE stream = ? AND event_id = ?', stream, firstId);
    if (!first) return null;
    const stored = this.all<Pick<EventRow, 'event_id' | 'position'>>(
      'SELECT event_id, position FROM events WHERE stream = ? AND revision >= ? ORDER BY revision ASC LIMIT ?',
      stream,
      first.revision,
      events.length,
    );
    const mismatch = events.findIndex((event, index) => stored[index]?.event_id !== event.metadata.eventId);
    if (mismatch >= 0) throw new EventIdConflictError(stream, events[mismatch]!.metadata.eventId);
    return { nextRevision: first.revision + events.length - 1, position: String(stored.at(-1)!.position) };
  }

  private readAllSync(options: ReadAllOptions): RecordedEvent[] {
    const conditions = ['position > @after'];
    if (options.types) conditions.push('type IN (SELECT value FROM json_each(@types))');
    if (options.streamPrefix !== undefined) conditions.push('stream GLOB @glob');
    const rows = this.all<EventRow>(
      `SELECT ${COLUMNS} FROM events WHERE ${conditions.join(' AND ')} ORDER BY position ASC LIMIT @limit`,
      {
        after: options.after === undefined ? 0 : Number(parsePosition(options.after).commit),
        limit: options.limit ?? NO_LIMIT,
        ...(options.types ? { types: JSON.stringify(options.types) } : {}),
        ...(options.streamPrefix !== undefined ? { glob: `${escapeGlob(options.streamPrefix)}*` } : {}),
      },
    );
    return rows.map(toRecordedEvent);
  }

  private all<R>(sql: string, ...params: unknown[]): R[] {
    return this.statement(sql).all(...params) as R[];
  }

  private get<R>(sql: string, ...params: unknown[]): R | undefined {
    return this.statement(sql).get(...params) as R | undefined;
  }

  /** Prepared once per SQL text: appends and catch-up pages are hot paths. */
  private statement(sql: string): Statement {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}

interface SubscriptionSettings {
  readonly fallbackPollMs: number;
  readonly retry: BackoffPolicy;
}

/**
 * One reader loop per subscription: read a page after the cursor, hand events over one at a time,
 * advance the cursor only past handled events; when caught up, sleep until an in-process append
 * or the store's head watch (appends of other processes on the same file) wakes it, or the
 * fallback interval elapses.
 */
class SqliteSubscription implements Subscription {
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;
  private pendingWake = false;
  /** The highest position it has been woken for, and when: the head watch wakes it only past that. */
  wokenThrough = 0;
  wokenAt = 0;
  readonly urgent: boolean;
  private wakeSleeper: (() => void) | null = null;

  constructor(
    private readonly readPage: (after: string | undefined) => RecordedEvent[],
    private readonly handler: EventHandler,
    private readonly options: SubscriptionOptions,
    private readonly settings: SubscriptionSettings,
    private readonly onStopped: () => void,
  ) {
    this.urgent = options.urgent ?? false;
    this.done = this.run();
  }

  /** Reads past `position` (its events or later ones) at once, or as soon as its handler is free. */
  wake(position: number, at = Date.now()): void {
    if (position > this.wokenThrough) this.wokenThrough = position;
    this.wokenAt = at;
    this.pendingWake = true;
    this.wakeSleeper?.();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wakeSleeper?.();
    await this.done;
  }

  private async run(): Promise<void> {
    let cursor = this.options.after;
    let failedReads = 0;
    // Let the subscriber finish wiring up before the first delivery.
    await Promise.resolve();
    while (!this.abort.signal.aborted) {
      this.pendingWake = false;
      let page: RecordedEvent[];
      try {
        page = this.readPage(cursor);
        failedReads = 0;
      } catch (error) {
        this.reportError(error);
        await sleepUnlessAborted(backoffDelay(++failedReads, this.settings.retry), this.abort.signal);
        continue;
      }
      if (page.length === 0) {
        await this.idle();
        continue;
      }
      for (const [index, event] of page.entries()) {
        const delivery = index < page.length - 1 ? NEXT_IN_PAGE : LAST_IN_PAGE;
        const handled = await deliverUntilHandled(
          (item: RecordedEvent) => this.handler(item, delivery),
          event,
          this.settings.retry,
          this.abort.signal,
          (error) => this.reportError(error),
        );
        if (!handled) break;
        cursor = event.position;
      }
    }
    this.onStopped();
  }

  private async idle(): Promise<void> {
    if (this.pendingWake || this.abort.signal.aborted) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, this.settings.fallbackPollMs);
      function finish(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = finish;
    });
    this.wakeSleeper = null;
  }

  private reportError(error: unknown): void {
    reportSubscriptionError(this.options.onError, error);
  }
}

function headHolds(append: PendingAppend, head: BatchHead): boolean {
  return expectationHolds(append.expected, head.revision) && lastEventHolds(append.options, head.lastEventId);
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    stream: row.stream,
    revision: row.revision,
    position: String(row.position),
    type: row.type,
    data: JSON.parse(row.data) as RecordedEvent['data'],
    metadata: JSON.parse(row.metadata) as EventMetadata,
  };
}

/** GLOB is case-sensitive and index-friendly; its metacharacters in a prefix must match literally. */
function escapeGlob(prefix: string): string {
  return prefix.replace(/[*?[]/g, (char) => `[${char}]`);
}
