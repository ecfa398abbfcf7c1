import { readEventStream, type ServerSentEvent } from '../../sdk/event-stream.reader.js';

/** A change-feed stream under test: its events as they arrive, waited for by predicate with a generous bound. */
export interface FeedReader {
  readonly received: readonly ServerSentEvent[];
  /** Resolves with the first event (from the oldest not yet taken) that matches; throws after `timeoutMs`. */
  next(match: (event: ServerSentEvent) => boolean, timeoutMs?: number): Promise<ServerSentEvent>;
  /** The id of the last event that carried one (what a client would send as Last-Event-ID). */
  lastId(): string | null;
  /** Resolves once the server ended or cut the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

export function readFeed(response: Response, abort: AbortController): FeedReader {
  const received: ServerSentEvent[] = [];
  let taken = 0;
  const waiting: { wake: (() => void) | null } = { wake: null };
  const ended = (async () => {
    try {
      for await (const event of readEventStream(response.body!)) {
        received.push(event);
        waiting.wake?.();
      }
    } catch {
      // Aborted by the test or cut by the server: both end the stream.
    }
    waiting.wake?.();
  })();
  let finished = false;
  void ended.then(() => (finished = true));
  return {
    received,
    ended,
    async next(match, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (taken < received.length) {
          const event = received[taken++]!;
          if (match(event)) return event;
        }
        if (finished) throw new Error(`the stream ended before the event came (received: ${received.map((e) => e.event).join(', ')})`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiting.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
    lastId() {
      for (let i = received.length - 1; i >= 0; i--) if (received[i]!.id !== null) return received[i]!.id;
      return null;
    },
    close: () => abort.abort(),
  };
}

export const isDecisionFor = (userId: string) => (event: ServerSentEvent): boolean => event.event === 'decision' && (JSON.parse(event.data) as { userId: string }).userId === userId;
