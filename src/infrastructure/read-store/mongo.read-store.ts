import {
  MongoClient,
  type AnyBulkWriteOperation,
  type ClientSession,
  type Collection,
  type Db,
  type Document,
  type Filter as MongoFilter,
  type IndexDescription,
} from 'mongodb';
import { DuplicateKeyError, type Checkpoint, type Doc, type Filter, type FindOptions, type IndexSpec, type Page, type ReadStore, type WriteOp } from '../../ports/read-store.port.js';
import { assertCollectionName } from './read-store.names.js';
import { assertLimit, decodeCursor, encodeCursor, normalizeSort } from './read-store.pagination.js';
import { assertId, assertSwapPairs, assertWriteOps } from './read-store.write-op.js';
import { afterSwap, IDENTITY, physicalName, type CollectionMap } from './mongo.collection-map.js';
import {
  fromStoredDoc,
  groupByCollection,
  sortValues,
  toMongoFilter,
  toMongoIndex,
  toMongoKeyset,
  toMongoSort,
  toMongoWriteModel,
} from './mongo.query.js';

/**
 * Read models in the production profile, on a replica set (transactions and snapshot reads need
 * one; compose runs a single-node set). write() commits its operations and its checkpoint in one
 * transaction. Collection names go through a map held in one document (mongo.collection-map.ts):
 * a rebuild's swap rewrites that document, with the checkpoints, in one transaction, and every
 * read resolves the map and reads the documents at one snapshot, so a read before the swap sees
 * the whole old generation and a read after it the whole new one, even while the old is emptied.
 *
 * Checkpoints live in `_checkpoints` and the map in `_collections`: collection names must start
 * with a letter, so no read model can collide with either.
 */
const CHECKPOINTS = '_checkpoints';
const COLLECTION_MAP = '_collections';
const MAP_ID = 'names';

/** Documents as stored: our `id` is MongoDB's `_id`, a string rather than an ObjectId. */
interface StoredDoc {
  _id: string;
  [field: string]: unknown;
}

interface CheckpointDoc {
  _id: string;
  position: string;
}

interface CollectionMapDoc {
  _id: string;
  names: CollectionMap;
}

export class MongoReadStore implements ReadStore {
  private readonly db: Db;

  constructor(
    private readonly client: MongoClient,
    dbName: string,
    private readonly ownsClient = false,
    /** Longest ping() waits: /health/ready must answer while MongoDB does not (the driver's own limit is 30 s of server selection). */
    private readonly pingTimeoutMs = 2_000,
  ) {
    this.db = client.db(dbName);
  }

  /** Opens a client of its own, closed by close(); without a name, the URI's database is used. */
  static async connect(uri: string, dbName?: string): Promise<MongoReadStore> {
    const client = await MongoClient.connect(uri);
    return new MongoReadStore(client, dbName ?? client.db().databaseName, true);
  }

  async get<T extends Doc>(collection: string, id: string): Promise<T | null> {
    assertId(id);
    return this.atOneSnapshot(collection, async (stored, session) => {
      const found = await stored.findOne({ _id: id }, { session });
      return found === null ? null : fromStoredDoc<T>(found);
    });
  }

  async find<T extends Doc>(collection: string, filter: Filter, options: FindOptions = {}): Promise<Page<T>> {
    assertLimit(options.limit);
    const keys = normalizeSort(options.sort);
    const query = toMongoFilter(filter);
    const where = options.cursor === undefined ? query : { $and: [query, toMongoKeyset(keys, decodeCursor(keys, options.cursor))] };
    const stored = await this.atOneSnapshot(collection, (physical, session) => {
      let found = physical.find(where as MongoFilter<StoredDoc>, { session }).sort(toMongoSort(keys));
      if (options.limit !== undefined) found = found.limit(options.limit + 1);
      return found.toArray();
    });
    const hasMore = options.limit !== undefined && stored.length > options.limit;
    const items = (hasMore ? stored.slice(0, options.limit) : stored).map((doc) => fromStoredDoc<T>(doc));
    const last = items[items.length - 1];
    return { items, nextCursor: hasMore && last !== undefined ? encodeCursor(keys, sortValues(keys, last)) : null };
  }

  async count(collection: string, filter: Filter): Promise<number> {
    return this.atOneSnapshot(collection, (stored, session) =>
      stored.countDocuments(toMongoFilter(filter) as MongoFilter<StoredDoc>, { session }),
    );
  }

  async ensureIndexes(collection: string, indexes: readonly IndexSpec[]): Promise<void> {
    const specs = indexes.map(toMongoIndex).filter((spec): spec is IndexDescription => spec !== null);
    if (specs.length > 0) await (await this.resolve(collection)).createIndexes(specs);
  }

  /**
   * One transaction: every operation and the checkpoint, or nothing. A DuplicateKeyError aborts
   * it, so nothing of the write is stored. The driver retries the whole callback on a transient
   * error, which the port's idempotent operations make harmless.
   */
  async write(ops: readonly WriteOp[], checkpoint?: Checkpoint): Promise<void> {
    assertWriteOps(ops, checkpoint);
    const runs = groupByCollection(ops)
      .map((run) => ({ collection: run.collection, models: run.ops.map(toMongoWriteModel).filter((model): model is Document => model !== null) }))
      .filter((run) => run.models.length > 0);
    if (runs.length === 0 && checkpoint === undefined) return;
    await this.inTransaction(async (session) => {
      const map = await this.collectionMap(session);
      for (const run of runs) {
        try {
          await this.physical(map, run.collection).bulkWrite(run.models as AnyBulkWriteOperation<StoredDoc>[], { ordered: true, session });
        } catch (error) {
          if ((error as { code?: unknown } | null)?.code === 11000) throw new DuplicateKeyError(run.collection);
          throw error;
        }
      }
      if (checkpoint !== undefined) await this.storeCheckpoints([checkpoint], session);
    });
  }

  async getCheckpoint(name: string): Promise<string | null> {
    const stored = await this.db.collection<CheckpointDoc>(CHECKPOINTS).findOne({ _id: name });
    return stored?.position ?? null;
  }

  /** Deletes the documents but keeps the collection and its indexes, as the SQLite adapter does. */
  async drop(collection: string): Promise<void> {
    await (await this.resolve(collection)).deleteMany({});
  }

  /**
   * The switch is one write of the map document, committed with the checkpoints: nothing is
   * renamed, so each collection keeps its indexes and no moment exists without a live one.
   */
  async swapCollections(pairs: ReadonlyArray<readonly [string, string]>, checkpoints: readonly Checkpoint[] = []): Promise<void> {
    assertSwapPairs(pairs);
    await this.inTransaction(async (session) => {
      const names = afterSwap(await this.collectionMap(session), pairs);
      await this.db
        .collection<CollectionMapDoc>(COLLECTION_MAP)
        .replaceOne({ _id: MAP_ID }, { names }, { upsert: true, session });
      await this.storeCheckpoints(checkpoints, session);
    });
  }

  private async storeCheckpoints(checkpoints: readonly Checkpoint[], session: ClientSession): Promise<void> {
    for (const checkpoint of checkpoints) {
      await this.db
        .collection<CheckpointDoc>(CHECKPOINTS)
        .updateOne({ _id: checkpoint.name }, { $set: { position: checkpoint.position } }, { upsert: true, session });
    }
  }

  private inTransaction(work: (session: ClientSession) => Promise<void>): Promise<void> {
    return this.client.withSession((session) => session.withTransaction(() => work(session)));
  }

  /** The map and the documents read at the same point in time (a snapshot session). */
  private atOneSnapshot<R>(collection: string, read: (stored: Collection<StoredDoc>, session: ClientSession) => Promise<R>): Promise<R> {
    assertCollectionName(collection);
    return this.client.withSession({ snapshot: true }, async (session) => read(this.physical(await this.collectionMap(session), collection), session));
  }

  private async resolve(collection: string): Promise<Collection<StoredDoc>> {
    assertCollectionName(collection);
    return this.physical(await this.collectionMap(), collection);
  }

  private async collectionMap(session?: ClientSession): Promise<CollectionMap> {
    const stored = await this.db.collection<CollectionMapDoc>(COLLECTION_MAP).findOne({ _id: MAP_ID }, session ? { session } : {});
    return stored?.names ?? IDENTITY;
  }

  async ping(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.pingTimeoutMs);
    });
    const answered = this.db.command({ ping: 1 }).then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([answered, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  private physical(map: CollectionMap, collection: string): Collection<StoredDoc> {
    assertCollectionName(collection);
    return this.db.collection<StoredDoc>(physicalName(map, collection));
  }
}
