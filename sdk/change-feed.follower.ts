import { readEventStream } from './event-stream.reader.js';
import { isHostDocument, type HostDecisionCache } from './host-decision.cache.js';
import { isPosition } from './stream.position.js';

export type FeedState = 'following' | 'down';

export interface FollowerOptions {
  readonly url: string;
  readonly token: () => Promise<string>;
  readonly fetch: typeof fetch;
  readonly cache: HostDecisionCache;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Silence (not even a keep-alive comment) after which the connection is deemed dead and replaced. */
  readonly staleAfterMs: number;
  readonly onState?: (state: FeedState, reason: string) => void;
}

/**
 * Follows GET /v1/enforcement/changes for the host cache: applies each document, remembers the
 * last `id` (everything up to it has been applied) and reconnects with it as `Last-Event-ID`, so
 * a dropped connection misses nothing. Reconnects back off exponentially with jitter, up to
 * `maxDelayMs`. It is `following` from the first event of a connection until that connection ends.
 */
export class ChangeFeedFollower {
  private position: string | null = null;
  private state: FeedState = 'down';
  private stopped = false;
  private abort: AbortController | null = null;
  private wakeUp: (() => void) | null = null;
  private readonly running: Promise<void>;

  constructor(private readonly options: FollowerOptions) {
    this.running = this.run();
  }

  /** The feed's position while it is following, else null (the cache cannot vouch for anything). */
  currentPosition(): string | null {
    return this.state === 'following' ? this.position : null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wakeUp?.();
    await this.running;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const reason = await this.connectOnce(() => (failures = 0));
      this.setState('down', reason);
      if (this.stopped) return;
      await this.sleep(backoff(failures++, this.options.initialDelayMs, this.options.maxDelayMs));
    }
  }

  /** One connection, from request to its end; returns why it ended. */
  private async connectOnce(onFirstEvent: () => void): Promise<string> {
    const abort = new AbortController();
    this.abort = abort;
    let lastActivity = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - lastActivity > this.options.staleAfterMs) abort.abort();
    }, Math.min(1_000, this.options.staleAfterMs));
    try {
      const headers: Record<string, string> = { authorization: `Bearer ${await this.options.token()}`, accept: 'text/event-stream' };
      if (this.position !== null) headers['last-event-id'] = this.position;
      const response = await this.options.fetch(this.options.url, { headers, signal: abort.signal, redirect: 'manual' });
      if (response.status === 400 && this.position !== null) {
        // The service no longer knows our position (its history was replaced): nothing cached can be trusted.
        await response.body?.cancel();
        this.options.cache.clear();
        this.position = null;
        return 'unknown_position';
      }
      if (response.status !== 200 || !response.body) {
        await response.body?.cancel();
        return `http_${response.status}`;
      }
      for await (const event of readEventStream(response.body, () => (lastActivity = Date.now()))) {
        if (event.event === 'decision') {
          const doc = parseJson(event.data);
          if (!isHostDocument(doc)) return 'invalid_event';
          this.options.cache.applyChange(doc);
        }
        if (event.id !== null && isPosition(event.id)) this.position = event.id;
        if (this.state === 'down' && event.event === 'position') {
          onFirstEvent();
          this.setState('following', 'connected');
        }
      }
      return 'ended';
    } catch (error) {
      return abort.signal.aborted && !this.stopped ? 'stalled' : errorName(error);
    } finally {
      clearInterval(watchdog);
      abort.abort();
    }
  }

  private setState(state: FeedState, reason: string): void {
    if (state === this.state) return;
    this.state = state;
    this.options.onState?.(state, reason);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}

/** Exponential, capped, with half of it random so that many hosts cut off together do not return together. */
export function backoff(failures: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(failures, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorName(error: unknown): string {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : 'unreachable';
}
