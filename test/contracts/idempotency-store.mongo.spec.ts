import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { MongoIdempotencyStore } from '../../src/infrastructure/idempotency/mongo.idempotency-store.js';
import { idempotencyStoreContract } from './idempotency-store.contract.js';

const uri = process.env.MONGODB_URI;
const describeWithMongo = uri ? describe : describe.skip;
const title = uri ? 'MongoIdempotencyStore contract' : 'MongoIdempotencyStore contract (skipped: MONGODB_URI is not set)';
if (!uri) console.warn(`${title}; run it against \`docker compose up\` with MONGODB_URI='mongodb://127.0.0.1:27017/?directConnection=true' (the replica set's member name resolves only inside compose)`);

describeWithMongo(title, () => {
  const databaseName = `tfe_idempotency_test_${randomUUID().slice(0, 8)}`;
  let admin: MongoClient;

  beforeAll(async () => {
    admin = await new MongoClient(uri!).connect();
  });

  afterAll(async () => {
    await admin.db(databaseName).dropDatabase();
    await admin.close();
  });

  idempotencyStoreContract(async () => {
    const store = await MongoIdempotencyStore.connect(uri!, databaseName);
    return {
      store,
      reopen: () => MongoIdempotencyStore.connect(uri!, databaseName),
      cleanup: () => store.close(),
    };
  });

  it('lets the server expire records through a TTL index on expiresAt', async () => {
    const store = await MongoIdempotencyStore.connect(uri!, databaseName);
    try {
      const now = new Date();
      await store.claim({ key: `key-${randomUUID()}`, fingerprint: 'f', token: randomUUID(), now, leaseUntil: now, expiresAt: now });
      const indexes = await admin.db(databaseName).collection('idempotency_records').indexes();
      expect(indexes).toContainEqual(expect.objectContaining({ key: { expiresAt: 1 }, expireAfterSeconds: 0 }));
    } finally {
      await store.close();
    }
  });
});
