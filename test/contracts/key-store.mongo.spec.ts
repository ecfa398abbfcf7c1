import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { MongoKeyStore } from '../../src/infrastructure/crypto/mongo.key-store.js';
import { keyStoreContract } from './key-store.contract.js';

const uri = process.env.MONGODB_URI;
const describeWithMongo = uri ? describe : describe.skip;
const title = uri ? 'MongoKeyStore contract' : 'MongoKeyStore contract (skipped: MONGODB_URI is not set)';
if (!uri) console.warn(`${title}; run it against \`docker compose up\` with MONGODB_URI='mongodb://127.0.0.1:27017/?directConnection=true' (the replica set's member name resolves only inside compose)`);

describeWithMongo(title, () => {
  const databaseName = `tfe_keys_test_${randomUUID().slice(0, 8)}`;
  let admin: MongoClient;

  beforeAll(async () => {
    admin = await new MongoClient(uri!).connect();
  });

  afterAll(async () => {
    await admin.db(databaseName).dropDatabase();
    await admin.close();
  });

  keyStoreContract(async () => {
    const store = await MongoKeyStore.connect(uri!, databaseName);
    return {
      store,
      reopen: () => MongoKeyStore.connect(uri!, databaseName),
      cleanup: () => store.close(),
    };
  });
});
