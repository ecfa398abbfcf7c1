import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Config } from '../config/config.js';
import type { Clock } from '../kernel/clock.js';
import { DomainError } from '../kernel/domain-error.js';
import { comparePositions, positionFromSortKey, positionSortKey, START_POSITION } from '../kernel/position.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import type { Logger } from '../ports/logger.port.js';
import type { ReadStore } from '../ports/read-store.port.js';
import { CLOCK, CONFIG, LOGGER, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import type { ReadModelProgress } from '../projections/read-model-progress.js';
import { hostDocument, type HostDecisionDocument } from './enforcement.host-document.js';
import { CHANGED_AT, changedAtOf, ENFORCEMENT, enforcementProjection, type EnforcementDoc } from './enforcement.projection.js';

/** Documents read per query while catching up: bounds what one connection holds at a time. */
const PAGE_SIZE = 500;
/**
 * How often the projection's checkpoint is read while any feed is open (one read for all of them):
 * it adds to a host cache's staleness (20 ms before 2026-12-02).
 */
const TICK_MS = 10;
/** Sent once at the start: how long a browser's EventSource waits before reconnecting. */
const RETRY_MS = 2_000;

class FeedClosed extends Error {
  override readonly name: string = 'FeedClosed';
}

/** The follower left what was written unread for ENFORCEMENT_FEED_DRAIN_TIMEOUT_MS and was cut off. */
class FollowerTooSlow extends FeedClosed {
  override readonly name = 'FollowerTooSlow';
}

/**
 * GET /v1/enforcement/changes: each changed per-user decision document, in the order of the
 * positions that changed it, read from the enforcement projection's own documents (each write
 * stamps `changedAt`, see enforcement.projection.ts). The projection commits a batch and its
 * checkpoint in one unit, so every document changed at or before the checkpoint is readable once
 * the checkpoint is: the feed sends the documents changed in (last sent, checkpoint], then the
 * checkpoint itself (`event: position`; the first one marks the end of the back-fill), then waits
 * for the checkpoint to move. Catching up from history and following
 * live are the same loop, so there is no switch to lose or repeat a change across.
 *
 * Several documents share a position when an organisation's change fans out to its members: only
 * the last of them carries the SSE `id`, so an id always means "everything up to here was sent"
 * and a client cut off half-way through a position gets all of it again.
 */
@Injectable()
export class EnforcementChangeFeed implements OnModuleDestroy {
  private readonly open = new Set<ServerResponse>();
  /** Followers admitted and not yet gone: the bound ENFORCEMENT_FEED_MAX_CONNECTIONS applies to these. */
  private admitted = 0;
  private readonly checkpointMoved = new EventEmitter();
  private ticker: NodeJS.Timeout | null = null;
  /** The checkpoint the ticker saw last, as a sort key. */
  private latestKey: string | null = null;
  private closing = false;

  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.checkpointMoved.setMaxListeners(0);
  }

  /**
   * Every refusal happens here, before the stream starts, so it can still be a problem+json
   * answer. Returns the sort key to stream after.
   */
  async admit(principal: Principal, after: string | undefined): Promise<string> {
    if (!hasRole(principal, 'platform')) throw new DomainError('forbidden', 'forbidden', 'Only the platform may follow the change feed.');
    if (this.closing || this.admitted >= this.config.ENFORCEMENT_FEED_MAX_CONNECTIONS) {
      throw new DomainError('unavailable', 'feed_full', 'The change feed has as many followers as it accepts; retry shortly.', { retryAfterSeconds: 5 });
    }
    // Taken before the first await, so followers arriving together cannot all pass the bound.
    this.admitted++;
    try {
      if (after === undefined) return positionSortKey((await this.checkpoint()) ?? START_POSITION);
      const head = await this.progress.headPosition();
      if (comparePositions(after, head ?? START_POSITION) > 0) {
        throw new DomainError('invalid', 'unknown_position', `No event has been written at position ${after}; pass a position the feed or a command answered.`);
      }
      return positionSortKey(after);
    } catch (error) {
      this.admitted--;
      throw error;
    }
  }

  /** Streams until the client leaves, is too slow, or the service shuts down. Never throws. Call once per admit. */
  async serve(response: ServerResponse, afterKey: string): Promise<void> {
    this.open.add(response);
    this.startTicker();
    try {
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
      await this.send(response, `retry: ${RETRY_MS}\n\n`);
      let sent = afterKey;
      // The first `position` event ends the back-fill: from there on the client is as current as the projection.
      let backFilled = false;
      while (!response.destroyed && !this.closing) {
        const reached = await this.checkpoint();
        if (reached !== null && positionSortKey(reached) > sent) {
          await this.sendChanges(response, sent, positionSortKey(reached));
          sent = positionSortKey(reached);
          await this.send(response, positionEvent(reached));
        } else if (!backFilled) {
          await this.send(response, positionEvent(positionFromSortKey(sent)));
        } else if (!(await this.nextMove(response, sent))) {
          await this.send(response, ': keep-alive\n\n');
        }
        backFilled = true;
      }
    } catch (error) {
      // A host cut off again and again is hung or on a link too slow for the feed: worth an operator's look.
      if (error instanceof FollowerTooSlow) this.logger.warn({ drainTimeoutMs: this.config.ENFORCEMENT_FEED_DRAIN_TIMEOUT_MS }, 'change feed follower cut off: it did not read what was sent');
      else if (!(error instanceof FeedClosed)) this.logger.warn({ err: error instanceof Error ? error.name : typeof error }, 'change feed connection failed');
      response.destroy();
    } finally {
      this.admitted--;
      this.open.delete(response);
      if (this.open.size === 0) this.stopTicker();
      if (!response.destroyed) response.end();
    }
  }

  /** Ends every stream so that the HTTP server's close does not wait on them. */
  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    this.checkpointMoved.emit('moved');
    for (const response of this.open) response.end();
    this.stopTicker();
  }

  /** A client that has not taken what was written within ENFORCEMENT_FEED_DRAIN_TIMEOUT_MS is disconnected; it resumes with Last-Event-ID. */
  private send(response: ServerResponse, text: string): Promise<void> {
    return writeOrCut(response, text, this.config.ENFORCEMENT_FEED_DRAIN_TIMEOUT_MS);
  }

  private async sendChanges(response: ServerResponse, afterKey: string, throughKey: string): Promise<void> {
    const now = this.clock.now();
    let cursor: string | undefined;
    let pending: HostDecisionDocument | null = null;
    do {
      const page = await this.store.find<EnforcementDoc>(
        ENFORCEMENT,
        { [CHANGED_AT]: { $gt: afterKey, $lte: throughKey } },
        { sort: [[CHANGED_AT, 1]], limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) },
      );
      for (const doc of page.items) {
        const next = hostDocument(doc.id, doc, positionFromSortKey(changedAtOf(doc)!), this.config.ENFORCEMENT_PAGE_URL, now);
        if (pending) await this.send(response, decisionEvent(pending, pending.position !== next.position));
        pending = next;
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    if (pending) await this.send(response, decisionEvent(pending, true));
  }

  /**
   * True when the checkpoint moved past `sentKey` (or the stream closed), false after a heartbeat's
   * worth of quiet. A move the ticker saw before this call counts, so none is missed in between.
   */
  private nextMove(response: ServerResponse, sentKey: string): Promise<boolean> {
    if (this.closing || (this.latestKey !== null && this.latestKey > sentKey)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (moved: boolean): void => {
        clearTimeout(timer);
        this.checkpointMoved.off('moved', onMoved);
        response.off('close', onMoved);
        resolve(moved);
      };
      const onMoved = (): void => done(true);
      const timer = setTimeout(() => done(false), this.config.ENFORCEMENT_FEED_HEARTBEAT_MS);
      this.checkpointMoved.once('moved', onMoved);
      response.once('close', onMoved);
    });
  }

  private checkpoint(): Promise<string | null> {
    return this.store.getCheckpoint(enforcementProjection.name);
  }

  private startTicker(): void {
    if (this.ticker) return;
    let reading = false;
    this.ticker = setInterval(() => {
      if (reading) return;
      reading = true;
      this.checkpoint()
        .then((position) => {
          const key = position === null ? null : positionSortKey(position);
          if (key !== null && key !== this.latestKey) {
            this.latestKey = key;
            this.checkpointMoved.emit('moved');
          }
        })
        .catch((error: unknown) => this.logger.warn({ err: error instanceof Error ? error.name : typeof error }, 'change feed could not read the checkpoint'))
        .finally(() => (reading = false));
    }, TICK_MS);
    this.ticker.unref();
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }
}

function decisionEvent(doc: HostDecisionDocument, closesPosition: boolean): string {
  return `event: decision\n${closesPosition ? `id: ${doc.position}\n` : ''}data: ${JSON.stringify(doc)}\n\n`;
}

function positionEvent(position: string): string {
  return `event: position\nid: ${position}\ndata: ${JSON.stringify({ position })}\n\n`;
}

/**
 * Writes, and when the socket's buffer is full waits for it to drain: at most one page of a slow
 * client's changes is ever held, plus the socket's high-water mark. One that does not drain in time
 * is cut off with a reset rather than a close: a close would leave the kernel holding what the
 * client never took (megabytes on loopback) until the client reads it or TCP gives up, minutes later.
 */
async function writeOrCut(response: ServerResponse, text: string, drainTimeoutMs: number): Promise<void> {
  if (response.destroyed || response.writableEnded) throw new FeedClosed();
  if (response.write(text)) return;
  const outcome = await new Promise<'drained' | 'closed' | 'too slow'>((resolve) => {
    const done = (how: 'drained' | 'closed' | 'too slow'): void => {
      clearTimeout(timer);
      response.off('drain', onDrain);
      response.off('close', onClose);
      resolve(how);
    };
    const onDrain = (): void => done('drained');
    const onClose = (): void => done('closed');
    const timer = setTimeout(() => done('too slow'), drainTimeoutMs);
    response.once('drain', onDrain);
    response.once('close', onClose);
  });
  if (outcome === 'drained') return;
  if (outcome === 'closed') throw new FeedClosed();
  response.socket?.resetAndDestroy();
  response.destroy();
  throw new FollowerTooSlow();
}
