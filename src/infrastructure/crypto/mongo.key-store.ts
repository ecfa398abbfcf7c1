import { Binary, MongoClient, MongoServerError, type Collection, type Db } from 'mongodb';
import { DataKeyExistsError, DataKeyShreddedError, type KeyStore, type WrappedKey } from '../../ports/key-store.port.js';

interface KeyDocument {
  _id: string;
  keyId?: string;
  iv?: Binary;
  ciphertext?: Binary;
  tag?: Binary;
  createdAt?: string;
  shreddedAt?: string;
}

const DUPLICATE_KEY = 11000;

/**
 * Data keys in MongoDB, collection `data_keys`, one document per user (`_id` = user id).
 *
 * What MongoDB can and cannot guarantee about erasure: removing the fields makes the key
 * unreadable through every query at once, and majority/journaled writes make that durable across
 * failover. It does not physically overwrite anything: WiredTiger leaves old record versions in
 * free blocks of the data files until they are reused or `compact` runs, the journal and the
 * oplog keep the original insert (with the wrapped key) until they roll over, and backups and
 * snapshots keep theirs. What is left behind is only ever the key *wrapped* by the master key, so
 * the guarantee on this profile is the master key: it never enters MongoDB, and rotating it
 * (re-wrapping the live keys under a new one, then destroying the old) makes every leftover copy
 * useless.
 */
export class MongoKeyStore implements KeyStore {
  private readonly keys: Collection<KeyDocument>;

  constructor(
    db: Db,
    private readonly ownedClient?: MongoClient,
  ) {
    this.keys = db.collection<KeyDocument>('data_keys', {
      writeConcern: { w: 'majority', journal: true },
      readConcern: { level: 'majority' },
    });
  }

  static async connect(uri: string, databaseName: string): Promise<MongoKeyStore> {
    const client = await new MongoClient(uri).connect();
    return new MongoKeyStore(client.db(databaseName), client);
  }

  async create(key: WrappedKey): Promise<void> {
    try {
      await this.keys.insertOne({
        _id: key.userId,
        keyId: key.keyId,
        iv: toBinary(key.iv),
        ciphertext: toBinary(key.ciphertext),
        tag: toBinary(key.tag),
        createdAt: key.createdAt,
      });
    } catch (error) {
      if (!(error instanceof MongoServerError) || error.code !== DUPLICATE_KEY) throw error;
      const existing = await this.keys.findOne({ _id: key.userId });
      throw existing?.shreddedAt ? new DataKeyShreddedError(key.userId) : new DataKeyExistsError(key.userId);
    }
  }

  async get(userId: string): Promise<WrappedKey | 'shredded' | null> {
    const doc = await this.keys.findOne({ _id: userId });
    if (!doc) return null;
    if (doc.shreddedAt || !doc.keyId || !doc.iv || !doc.ciphertext || !doc.tag || !doc.createdAt) return 'shredded';
    return {
      userId,
      keyId: doc.keyId,
      iv: doc.iv.toString('base64'),
      ciphertext: doc.ciphertext.toString('base64'),
      tag: doc.tag.toString('base64'),
      createdAt: doc.createdAt,
    };
  }

  /** Upsert so that forgetting a user who never had a key still blocks creating one later. */
  async delete(userId: string): Promise<void> {
    await this.keys.updateOne(
      { _id: userId },
      [
        { $set: { shreddedAt: { $ifNull: ['$shreddedAt', new Date().toISOString()] } } },
        { $unset: ['iv', 'ciphertext', 'tag'] },
      ],
      { upsert: true },
    );
  }

  async close(): Promise<void> {
    await this.ownedClient?.close();
  }
}

function toBinary(base64: string): Binary {
  return new Binary(Buffer.from(base64, 'base64'));
}
