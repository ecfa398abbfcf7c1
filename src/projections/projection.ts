import type { RecordedEvent } from '../kernel/event-envelope.js';
import type { Doc, Filter, FindOptions, IndexSpec, Page, WriteOp } from '../ports/read-store.port.js';

/** What a projection may read while deciding its writes: committed read models only. */
export interface ReadModelView {
  get<T extends Doc>(collection: string, id: string): Promise<T | null>;
  find<T extends Doc>(collection: string, filter: Filter, options?: FindOptions): Promise<Page<T>>;
}

/**
 * A projection turns one event into idempotent read-model writes. It never writes by itself:
 * the runner commits its writes together with its checkpoint.
 */
export interface Projection {
  readonly name: string;
  readonly handles: readonly string[];
  readonly indexes: Readonly<Record<string, readonly IndexSpec[]>>;
  /**
   * False for a saga whose apply has side effects (scheduling jobs, sending mail): replaying all of
   * history through it would redo them, so projection rebuilds leave it alone.
   */
  readonly rebuildable?: boolean;
  /**
   * True for a projection whose writes are waited for as they happen (the enforcement documents,
   * which decisions, read-your-writes and hosts' caches follow): woken by the same new events as
   * the others, it applies and commits them first.
   */
  readonly urgent?: boolean;
  apply(event: RecordedEvent, view: ReadModelView): Promise<readonly WriteOp[]>;
}
