import type { EventStore } from '../ports/event-store.port.js';
import type { Checkpoint, ReadStore } from '../ports/read-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import { BatchingView } from './batch.view.js';
import type { Projection } from './projection.js';

/** Fresh read models are built beside the live ones under this suffix, then swapped in. */
export const REBUILD_SUFFIX = '_next';
const PAGE = 2000;
const MAX_PENDING_OPS = 10_000;

export type RebuildState = 'idle' | 'running' | 'swapping' | 'done' | 'failed';

export interface RebuildProgress {
  readonly state: RebuildState;
  readonly projections: readonly string[];
  /** Events read from the store so far (every type, whether a projection handles it or not). */
  readonly processed: number;
  /** Last position applied to the fresh read models. */
  readonly position: string | null;
  /** The store's head when the rebuild started; the rebuild then catches up past it. */
  readonly headPosition: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: string | null;
}

/** The live projector, whose projections are paused while their read models are swapped. */
export interface LiveProjector {
  /** Stops delivering to the projection; resolves with the position it reached. */
  pause(name: string): Promise<string | null>;
  resume(name: string, after: string | null): Promise<void>;
}

export class RebuildInProgressError extends Error {
  override readonly name = 'RebuildInProgressError';
  constructor() {
    super('a projection rebuild is already running');
  }
}

interface Target {
  readonly projection: Projection;
  readonly view: BatchingView;
  readonly collections: Set<string>;
}

/**
 * Replays all of history into fresh collections (`x_next`) while the live read models keep
 * answering, then pauses the live projections, catches up the tail, swaps each collection with
 * its fresh twin together with the checkpoint, and resumes. Sagas (rebuildable: false) are never
 * replayed: their side effects happened once already.
 */
export class ProjectionRebuild {
  private current: RebuildProgress = idle();
  private running: Promise<RebuildProgress> | null = null;
  private cancelled = false;

  constructor(
    private readonly events: EventStore,
    private readonly readStore: ReadStore,
    private readonly projections: readonly Projection[],
    private readonly logger: Logger,
    private readonly live: LiveProjector | null,
    private readonly now: () => Date = () => new Date(),
  ) {}

  progress(): RebuildProgress {
    return this.current;
  }

  /** Starts in the background; throws RebuildInProgressError while one runs. */
  start(): RebuildProgress {
    if (this.running) throw new RebuildInProgressError();
    this.cancelled = false;
    const targets = this.projections.filter((p) => p.rebuildable !== false);
    this.current = { ...idle(), state: 'running', projections: targets.map((p) => p.name), startedAt: this.now().toISOString() };
    this.running = this.run(targets).finally(() => {
      this.running = null;
    });
    return this.current;
  }

  /** Runs to the end (CLI). */
  async runToEnd(): Promise<RebuildProgress> {
    this.start();
    return (await this.running) ?? this.current;
  }

  async cancel(): Promise<void> {
    this.cancelled = true;
    await this.running?.catch(() => undefined);
  }

  private async run(projections: readonly Projection[]): Promise<RebuildProgress> {
    try {
      const targets = await Promise.all(projections.map((p) => this.prepare(p)));
      this.update({ headPosition: await this.events.headPosition() });
      let position = await this.replay(targets, undefined);
      const paused = await this.pauseLive(targets);
      try {
        position = await this.replay(targets, position);
        this.update({ state: 'swapping' });
        await this.swap(targets, position);
        await this.resumeLive(targets, position === undefined ? paused : new Map(targets.map((t) => [t.projection.name, position!])));
      } catch (error) {
        await this.resumeLive(targets, paused);
        throw error;
      }
      await Promise.all(targets.flatMap((t) => [...t.collections].map((c) => this.readStore.drop(`${c}${REBUILD_SUFFIX}`))));
      this.update({ state: 'done', finishedAt: this.now().toISOString() });
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
      this.logger.error({ err: message }, 'projection rebuild failed; live read models left as they were');
      this.update({ state: 'failed', error: message, finishedAt: this.now().toISOString() });
    }
    return this.current;
  }

  /**
   * Each fresh collection is emptied before first use (an interrupted rebuild may have left
   * documents there) and indexed like its live twin.
   */
  private async prepare(projection: Projection): Promise<Target> {
    const collections = new Set<string>();
    const fresh = async (collection: string): Promise<void> => {
      collections.add(collection);
      await this.readStore.drop(`${collection}${REBUILD_SUFFIX}`);
      await this.readStore.ensureIndexes(`${collection}${REBUILD_SUFFIX}`, projection.indexes[collection] ?? []);
    };
    const view = new BatchingView(this.readStore, { target: (collection) => `${collection}${REBUILD_SUFFIX}`, prepare: fresh });
    for (const collection of Object.keys(projection.indexes)) await fresh(collection);
    return { projection, view, collections };
  }

  /** Applies every event after `after` up to the current end of the store, a page per write. */
  private async replay(targets: readonly Target[], after: string | undefined): Promise<string | undefined> {
    let position = after;
    for (;;) {
      if (this.cancelled) throw new Error('rebuild cancelled: the projector is stopping');
      const page = await this.events.readAll({ limit: PAGE, ...(position === undefined ? {} : { after: position }) });
      if (page.length === 0) return position;
      for (const event of page) {
        for (const target of targets) {
          if (!target.projection.handles.includes(event.type)) continue;
          target.view.stage(await target.projection.apply(event, target.view));
          if (target.view.pendingCount >= MAX_PENDING_OPS) await target.view.flush();
        }
      }
      position = page.at(-1)!.position;
      await Promise.all(targets.map((t) => t.view.flush(shadowCheckpoint(t.projection, position!))));
      this.update({ processed: this.current.processed + page.length, position });
    }
  }

  private async pauseLive(targets: readonly Target[]): Promise<Map<string, string | null>> {
    const paused = new Map<string, string | null>();
    for (const { projection } of targets) paused.set(projection.name, this.live ? await this.live.pause(projection.name) : null);
    return paused;
  }

  private async resumeLive(targets: readonly Target[], positions: ReadonlyMap<string, string | null>): Promise<void> {
    if (!this.live) return;
    for (const { projection } of targets) await this.live.resume(projection.name, positions.get(projection.name) ?? null);
  }

  /** Declared collections are swapped even when the replay never wrote them: the live ones must then end up empty too. */
  private async swap(targets: readonly Target[], position: string | undefined): Promise<void> {
    const pairs = targets.flatMap((t) => [...t.collections].map((c) => [c, `${c}${REBUILD_SUFFIX}`] as const));
    const checkpoints: Checkpoint[] = position === undefined ? [] : targets.map((t) => ({ name: t.projection.name, position }));
    await this.readStore.swapCollections(pairs, checkpoints);
    for (const target of targets) {
      for (const [collection, indexes] of Object.entries(target.projection.indexes)) await this.readStore.ensureIndexes(collection, indexes);
    }
  }

  private update(change: Partial<RebuildProgress>): void {
    this.current = { ...this.current, ...change };
  }
}

function shadowCheckpoint(projection: Projection, position: string): Checkpoint {
  return { name: `${projection.name}${REBUILD_SUFFIX}`, position };
}

function idle(): RebuildProgress {
  return { state: 'idle', projections: [], processed: 0, position: null, headPosition: null, startedAt: null, finishedAt: null, error: null };
}
