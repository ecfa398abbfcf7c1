import { MongoClient, type AnyBulkWriteOperation, type Collection, type Db, type Document, type Filter as MongoFilter, type IndexDescription } from 'mongodb';
import { DuplicateKeyError, type Checkpoint, type Doc, type Filter, type FindOptions, type IndexSpec, type Page, type ReadStore, type WriteOp } from '../../ports/read-store.port.js';
import { assertCollectionName } from './read-store.names.js';
import { assertLimit, decodeCursor, encodeCursor, normalizeSort } from './read-store.pagination.js';
import { assertId, assertSwapPairs, assertWriteOps } from './read-store.write-op.js';
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
 * Read models in the production profile. MongoDB has no transaction here (a standalone server
 * has none), so write() relies on the port's rule that every operation is idempotent: the
 * checkpoint is stored last, and a crash before it only replays operations already applied.
 *
 * Checkpoints live in `_checkpoints`: collection names must start with a letter, so no read
 * model can collide with it.
 */
const CHECKPOINTS = '_checkpoints';
/** Collection names start with a letter, so no read model can collide with a temporary swap name. */
const SWAP_PREFIX = '_swap_';

/** Documents as stored: our `id` is MongoDB's `_id`, a string rather than an ObjectId. */
interface StoredDoc {
  _id: string;
  [field: string]: unknown;
}

interface CheckpointDoc {
  _id: string;
  position: string;
}

export class MongoReadStore implements ReadStore {
  private readonly db: Db;

  constructor(
    private readonly client: MongoClient,
    dbName: string,
    private readonly ownsClient = false,
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
    const stored = await this.collection(collection).findOne({ _id: id });
    return stored === null ? null : fromStoredDoc<T>(stored);
  }

  async find<T extends Doc>(collection: string, filter: Filter, options: FindOptions = {}): Promise<Page<T>> {
    assertLimit(options.limit);
    const keys = normalizeSort(options.sort);
    const query = toMongoFilter(filter);
    const where = options.cursor === undefined ? query : { $and: [query, toMongoKeyset(keys, decodeCursor(keys, options.cursor))] };
    let found = this.collection(collection).find(where as MongoFilter<StoredDoc>).sort(toMongoSort(keys));
    if (options.limit !== undefined) found = found.limit(options.limit + 1);
    const stored = await found.toArray();
    const hasMore = options.limit !== undefined && stored.length > options.limit;
    const items = (hasMore ? stored.slice(0, options.limit) : stored).map((doc) => fromStoredDoc<T>(doc));
    const last = items[items.length - 1];
    return { items, nextCursor: hasMore && last !== undefined ? encodeCursor(keys, sortValues(keys, last)) : null };
  }

  async count(collection: string, filter: Filter): Promise<number> {
    return this.collection(collection).countDocuments(toMongoFilter(filter) as MongoFilter<StoredDoc>);
  }

  async ensureIndexes(collection: string, indexes: readonly IndexSpec[]): Promise<void> {
    const specs = indexes.map(toMongoIndex).filter((spec): spec is IndexDescription => spec !== null);
    if (specs.length > 0) await this.collection(collection).createIndexes(specs);
  }

  async write(ops: readonly WriteOp[], checkpoint?: Checkpoint): Promise<void> {
    assertWriteOps(ops, checkpoint);
    for (const run of groupByCollection(ops)) {
      const models = run.ops.map(toMongoWriteModel).filter((model): model is Document => model !== null);
      if (models.length > 0) {
        try {
          await this.collection(run.collection).bulkWrite(models as AnyBulkWriteOperation<StoredDoc>[], { ordered: true });
        } catch (error) {
          if ((error as { code?: unknown } | null)?.code === 11000) throw new DuplicateKeyError(run.collection);
          throw error;
        }
      }
    }
    if (checkpoint !== undefined) {
      await this.db
        .collection<CheckpointDoc>(CHECKPOINTS)
        .updateOne({ _id: checkpoint.name }, { $set: { position: checkpoint.position } }, { upsert: true });
    }
  }

  async getCheckpoint(name: string): Promise<string | null> {
    const stored = await this.db.collection<CheckpointDoc>(CHECKPOINTS).findOne({ _id: name });
    return stored?.position ?? null;
  }

  /** Deletes the documents but keeps the collection and its indexes, as the SQLite adapter does. */
  async drop(collection: string): Promise<void> {
    await this.collection(collection).deleteMany({});
  }

  /**
   * Three renames per pair through a temporary name; MongoDB renames keep a collection's indexes.
   * Not atomic across renames: a crash in between leaves the temporary collection to finish by hand.
   */
  async swapCollections(pairs: ReadonlyArray<readonly [string, string]>, checkpoints: readonly Checkpoint[] = []): Promise<void> {
    assertSwapPairs(pairs);
    for (const [a, b] of pairs) {
      const temporary = `${SWAP_PREFIX}${a}`;
      await this.renameIfExists(a, temporary);
      await this.renameIfExists(b, a);
      await this.renameIfExists(temporary, b);
    }
    for (const checkpoint of checkpoints) {
      await this.db.collection<CheckpointDoc>(CHECKPOINTS).updateOne({ _id: checkpoint.name }, { $set: { position: checkpoint.position } }, { upsert: true });
    }
  }

  private async renameIfExists(from: string, to: string): Promise<void> {
    const exists = await this.db.listCollections({ name: from }, { nameOnly: true }).hasNext();
    if (exists) await this.db.renameCollection(from, to, { dropTarget: true });
    else await this.db.collection(to).drop().catch(() => undefined);
  }

  async ping(): Promise<boolean> {
    try {
      await this.db.command({ ping: 1 });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  private collection(name: string): Collection<StoredDoc> {
    assertCollectionName(name);
    return this.db.collection<StoredDoc>(name);
  }
}
