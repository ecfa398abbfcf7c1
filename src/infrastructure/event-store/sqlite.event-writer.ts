import { Worker } from 'node:worker_threads';

/** One event row, serialised as it is stored. */
export interface PreparedRow {
  readonly revision: number;
  readonly eventId: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

/**
 * An append decided on the main thread: commit `rows` only if the stream's head is still revision
 * `after` (-1: no stream) and that revision still holds the event `afterEventId`.
 */
export interface PreparedAppend {
  readonly stream: string;
  readonly after: number;
  readonly afterEventId: string | null;
  readonly rows: readonly PreparedRow[];
}

export type WriteOutcome =
  | { readonly kind: 'committed'; readonly position: number }
  /** Another writer moved the stream's head since it was read: decide the append again. */
  | { readonly kind: 'moved' }
  | { readonly kind: 'event-id-taken'; readonly eventId: string };

export interface WriterOptions {
  readonly path: string;
  readonly readonly: boolean;
  /** How long a commit waits for another connection's write lock. */
  readonly lockWaitMs: number;
}

export interface WriterRequest {
  readonly id: number;
  readonly appends: readonly PreparedAppend[];
}

export type WriterReply =
  | { readonly id: number; readonly outcomes: WriteOutcome[] }
  | { readonly id: number; readonly failure: { readonly code: string | undefined; readonly message: string } };

interface Waiting {
  readonly resolve: (outcomes: WriteOutcome[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The main thread's end of the writer thread (sqlite.event-writer.worker.js): one connection of
 * its own to the same file, started on the first commit. A commit that fails as a whole rejects
 * with an error carrying SQLite's code, as the driver's own errors do (storage failures are told
 * apart by it). If the thread dies, what it held is rejected and the next commit starts a new one.
 */
export class SqliteEventWriter {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;

  constructor(private readonly options: WriterOptions) {}

  commit(appends: readonly PreparedAppend[]): Promise<WriteOutcome[]> {
    const id = this.nextId++;
    const request: WriterRequest = { id, appends };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const worker = this.started();
      // A commit in flight keeps the process alive (a CLI command may await nothing else); an idle
      // writer does not, and close() ends it.
      worker.ref();
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./sqlite.event-writer.worker.js', import.meta.url), { workerData: this.options });
    worker.on('message', (reply: WriterReply) => this.settle(reply));
    worker.on('error', (error) => this.stopped(worker, error));
    worker.on('exit', (code) => this.stopped(worker, new Error(`the event store's writer thread stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private settle(reply: WriterReply): void {
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if ('outcomes' in reply) waiting.resolve(reply.outcomes);
    else waiting.reject(Object.assign(new Error(reply.failure.message), { name: 'SqliteError', code: reply.failure.code }));
  }

  private stopped(worker: Worker, error: unknown): void {
    if (this.worker === worker) this.worker = null;
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}
