import { EventEmitter } from 'node:events';
import type { RecordedEvent } from '../kernel/event-envelope.js';
import { comparePositions } from '../kernel/position.js';
import type { Delivery, EventStore, Subscription } from '../ports/event-store.port.js';
import type { ReadStore } from '../ports/read-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { Projection } from './projection.js';
import type { ReadModelProgress } from './read-model-progress.js';
import { ProjectionRebuild, type LiveProjector } from './projection.rebuild.js';
import { BatchingView } from './batch.view.js';

const IDLE_CHECKPOINT_DELAY_MS = 50;
/** Bounds how long the first event of a batch waits for its commit. */
const MAX_BATCH_EVENTS = 100;

/**
 * Runs each projection on its own durable subscription, so one failing projection is retried
 * without holding the others back. A projection's writes and its checkpoint are committed in one
 * unit; positions of events it does not handle are checkpointed lazily once it is idle.
 * While the subscription says the next event follows at once, a projection stages its writes and
 * commits them with those of the following events: one commit per batch instead of per event.
 * Reads during the batch see the staged writes (BatchingView), and progress is reported only once
 * the batch is committed. Sagas batch too: their side effects (jobs) are already required to be
 * idempotent under a replay from their checkpoint (a crash before it commits), and replaying a
 * batch from the state before it repeats the same decisions in the same order. Within one process
 * a staged event is never applied twice, even when its commit is retried.
 */
export class ProjectionRunner implements ReadModelProgress, LiveProjector {
  private readonly reached = new Map<string, string | null>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();
  private readonly batches = new Map<string, BatchingView>();
  private readonly progress = new EventEmitter();
  private started = false;
  /** Rebuilds run here because only the process running the projections can pause them for the swap. */
  readonly rebuild: ProjectionRebuild;

  constructor(
    private readonly events: EventStore,
    private readonly readStore: ReadStore,
    private readonly projections: readonly Projection[],
    private readonly logger: Logger,
  ) {
    this.progress.setMaxListeners(0);
    this.rebuild = new ProjectionRebuild(events, readStore, projections, logger, this);
  }

  async start(): Promise<void> {
    for (const projection of this.projections) {
      for (const [collection, indexes] of Object.entries(projection.indexes)) {
        await this.readStore.ensureIndexes(collection, indexes);
      }
      this.subscribe(projection, await this.readStore.getCheckpoint(projection.name));
    }
    this.started = true;
  }

  private subscribe(projection: Projection, checkpoint: string | null): void {
    this.reached.set(projection.name, checkpoint);
    this.subscriptions.set(
      projection.name,
      this.events.subscribe((event, delivery) => this.handle(projection, event, delivery), {
        ...(checkpoint ? { after: checkpoint } : {}),
        ...(projection.urgent ? { urgent: true } : {}),
        onError: (error) => this.logger.error({ projection: projection.name, err: errorName(error) }, 'projection failed; retrying'),
      }),
    );
  }

  /** Stops one projection's subscription once its handler is idle; its checkpoint is stored. */
  async pause(name: string): Promise<string | null> {
    const subscription = this.subscriptions.get(name);
    this.subscriptions.delete(name);
    await subscription?.stop();
    this.dropBatch(name);
    const timer = this.idleTimers.get(name);
    if (timer) clearTimeout(timer);
    await this.flushIdleCheckpoint(name);
    return this.reached.get(name) ?? null;
  }

  /** Resumes after `after` (the position the projection's read models now reflect). */
  async resume(name: string, after: string | null): Promise<void> {
    const projection = this.projections.find((p) => p.name === name);
    if (!projection || this.subscriptions.has(name) || !this.started) return;
    this.subscribe(projection, after);
    this.progress.emit('progress');
  }

  isRunning(): boolean {
    return this.started;
  }

  async stop(): Promise<void> {
    await this.rebuild.cancel();
    const subscriptions = [...this.subscriptions.values()];
    this.subscriptions.clear();
    await Promise.all(subscriptions.map((s) => s.stop()));
    for (const projection of this.projections) this.dropBatch(projection.name);
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    this.idleTimers.clear();
    await Promise.all(this.projections.map((p) => this.flushIdleCheckpoint(p.name)));
    this.started = false;
  }

  /** The lowest position every projection has reached, or null before any event. */
  position(): string | null {
    let lowest: string | null = null;
    for (const position of this.reached.values()) {
      if (position === null) return null;
      if (lowest === null || comparePositions(position, lowest) < 0) lowest = position;
    }
    return lowest;
  }

  hasReached(position: string): boolean {
    const current = this.position();
    return current !== null && comparePositions(current, position) >= 0;
  }

  /** Read-your-writes: resolves true once every projection has reached the position. */
  headPosition(): Promise<string | null> {
    return this.events.headPosition();
  }

  async waitFor(position: string, timeoutMs: number): Promise<boolean> {
    if (this.hasReached(position)) return true;
    return new Promise((resolve) => {
      const onProgress = (): void => {
        if (!this.hasReached(position)) return;
        cleanup();
        resolve(true);
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(this.hasReached(position));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.progress.off('progress', onProgress);
      };
      this.progress.on('progress', onProgress);
    });
  }

  private async handle(projection: Projection, event: RecordedEvent, delivery: Delivery): Promise<void> {
    // Every subscription is woken by the same new events, and their batches would otherwise take
    // turns event by event on this one event loop: an urgent batch would commit only once the
    // others had done most of their work, and after their commits (whose WAL checkpoints wait for
    // the disk). A batch that is not urgent therefore starts only after the event loop's turn, by
    // which time an urgent batch woken with it has committed.
    if (!projection.urgent && !this.batches.has(projection.name)) await afterThisTurn();
    let batch = this.batches.get(projection.name);
    if (!batch) this.batches.set(projection.name, (batch = new BatchingView(this.readStore, { checkpoint: projection.name })));
    // A redelivery after a failed commit: the event is already staged, only the commit is retried.
    if (batch.stagedThrough === null || comparePositions(event.position, batch.stagedThrough) > 0) {
      batch.stage(projection.handles.includes(event.type) ? await projection.apply(event, batch) : [], event.position);
    }
    if (delivery.more && batch.eventsStaged < MAX_BATCH_EVENTS) return;
    if (batch.pendingCount > 0) await batch.flush({ name: projection.name, position: event.position });
    else this.scheduleIdleCheckpoint(projection.name);
    this.batches.delete(projection.name);
    this.advance(projection.name, event.position);
  }

  /**
   * Staged writes were never reported as reached: the next subscription starts before them. A part
   * a read forced out earlier was committed with its checkpoint, so progress moves up to it rather
   * than the stored checkpoint being moved back later.
   */
  private dropBatch(name: string): void {
    const committed = this.batches.get(name)?.committedThrough ?? null;
    this.batches.delete(name);
    const reached = this.reached.get(name) ?? null;
    if (committed !== null && (reached === null || comparePositions(committed, reached) > 0)) this.reached.set(name, committed);
  }

  private advance(name: string, position: string): void {
    this.reached.set(name, position);
    this.progress.emit('progress');
  }

  private scheduleIdleCheckpoint(name: string): void {
    // Not pushed back by later events: under steady load the stored checkpoint, which API-only
    // processes wait on, must still move at least every IDLE_CHECKPOINT_DELAY_MS.
    if (!this.idleTimers.has(name)) this.idleTimers.set(name, setTimeout(() => void this.flushIdleCheckpoint(name), IDLE_CHECKPOINT_DELAY_MS));
  }

  private async flushIdleCheckpoint(name: string): Promise<void> {
    this.idleTimers.delete(name);
    const position = this.reached.get(name);
    if (!position) return;
    try {
      await this.readStore.write([], { name, position });
    } catch (error) {
      this.logger.warn({ projection: name, err: errorName(error) }, 'idle checkpoint not stored; will catch up on restart');
    }
  }
}

function afterThisTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
}
