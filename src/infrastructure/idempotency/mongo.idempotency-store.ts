import { MongoClient, MongoServerError, type Collection, type Db } from 'mongodb';
import type { ClaimRequest, ClaimResult, IdempotencyRecord, IdempotencyStore, StoredAnswer } from '../../ports/idempotency-store.port.js';

interface RecordDocument {
  _id: string;
  fingerprint: string;
  /** Set while the claim is unfinished; null once answered. */
  claimToken: string | null;
  leaseUntil: Date | null;
  expiresAt: Date;
  status: number | null;
  answer: string | null;
}

const DUPLICATE_KEY = 11000;
/** A record can vanish between our failed insert and our read (released, or TTL-deleted): try again. */
const CLAIM_ATTEMPTS = 5;

/**
 * Idempotency records in MongoDB, collection `idempotency_records`, `_id` = record key.
 *
 * A claim is an insertOne: the unique `_id` makes exactly one of concurrent claims win (the others
 * get a duplicate-key error, code 11000). Taking over an expired record or a lapsed claim is a
 * findOneAndUpdate whose filter states the takeover condition, atomic on the one document. A TTL
 * index on `expiresAt` lets the server delete expired records; its monitor runs about once a
 * minute, so expiry is also checked in every query instead of relying on the deletion.
 */
export class MongoIdempotencyStore implements IdempotencyStore {
  private readonly records: Collection<RecordDocument>;
  private indexes: Promise<unknown> | null = null;

  constructor(
    db: Db,
    private readonly ownedClient?: MongoClient,
  ) {
    this.records = db.collection<RecordDocument>('idempotency_records', {
      writeConcern: { w: 'majority', journal: true },
      readConcern: { level: 'majority' },
    });
  }

  static async connect(uri: string, databaseName: string): Promise<MongoIdempotencyStore> {
    const client = await new MongoClient(uri).connect();
    return new MongoIdempotencyStore(client.db(databaseName), client);
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    await this.ensureIndexes();
    for (let attempt = 1; ; attempt++) {
      if (await this.insert(request)) return { claimed: true };
      if (await this.takeOver(request)) return { claimed: true };
      const existing = await this.records.findOne({ _id: request.key });
      if (existing && existing.expiresAt > request.now) return { claimed: false, record: toRecord(existing) };
      if (attempt >= CLAIM_ATTEMPTS) throw new Error(`idempotency record ${request.key} kept changing while being claimed`);
    }
  }

  async complete(key: string, token: string, answer: StoredAnswer): Promise<boolean> {
    const updated = await this.records.updateOne(
      { _id: key, claimToken: token, status: null },
      { $set: { status: answer.status, answer: answer.sealed, claimToken: null, leaseUntil: null } },
    );
    return updated.modifiedCount === 1;
  }

  async release(key: string, token: string): Promise<void> {
    await this.records.deleteOne({ _id: key, claimToken: token, status: null });
  }

  async close(): Promise<void> {
    await this.ownedClient?.close();
  }

  private async insert(request: ClaimRequest): Promise<boolean> {
    try {
      await this.records.insertOne({
        _id: request.key,
        fingerprint: request.fingerprint,
        claimToken: request.token,
        leaseUntil: request.leaseUntil,
        expiresAt: request.expiresAt,
        status: null,
        answer: null,
      });
      return true;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
      throw error;
    }
  }

  /** A pipeline update, so the first expiry is kept when a lapsed claim is taken over. */
  private async takeOver(request: ClaimRequest): Promise<boolean> {
    const taken = await this.records.findOneAndUpdate(
      {
        _id: request.key,
        $or: [{ expiresAt: { $lte: request.now } }, { status: null, leaseUntil: { $lte: request.now }, fingerprint: request.fingerprint }],
      },
      [
        {
          $set: {
            expiresAt: { $cond: [{ $lte: ['$expiresAt', request.now] }, request.expiresAt, '$expiresAt'] },
            fingerprint: { $literal: request.fingerprint },
            claimToken: { $literal: request.token },
            leaseUntil: request.leaseUntil,
            status: null,
            answer: null,
          },
        },
      ],
      { returnDocument: 'after' },
    );
    return taken?.claimToken === request.token;
  }

  private ensureIndexes(): Promise<unknown> {
    this.indexes ??= this.records.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: 'expire_records' }).catch((error: unknown) => {
      this.indexes = null;
      throw error;
    });
    return this.indexes;
  }
}

function toRecord(doc: RecordDocument): IdempotencyRecord {
  if (doc.status === null || doc.answer === null) return { state: 'in_progress', fingerprint: doc.fingerprint, leaseUntil: doc.leaseUntil ?? new Date(0), expiresAt: doc.expiresAt };
  return { state: 'completed', fingerprint: doc.fingerprint, answer: { status: doc.status, sealed: doc.answer }, expiresAt: doc.expiresAt };
}
