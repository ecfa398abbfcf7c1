import { MongoBackend } from '@agendajs/mongo-backend';
import { MongoClient } from 'mongodb';
import type { Config } from '../config/config.js';
import { MongoKeyStore } from '../infrastructure/crypto/mongo.key-store.js';
import { EsdbEventStore } from '../infrastructure/event-store/esdb.event-store.js';
import { MongoIdempotencyStore } from '../infrastructure/idempotency/mongo.idempotency-store.js';
import { MongoReadStore } from '../infrastructure/read-store/mongo.read-store.js';
import type { ProfileStores } from './profile.stores.js';

/** Production profile: EventStoreDB for history, one MongoDB client for read models, data keys and idempotency records. */
export async function productionProfileStores(config: Config): Promise<ProfileStores> {
  if (!config.EVENTSTORE_CONNECTION_STRING || !config.MONGODB_URI) {
    throw new Error('the production profile needs EVENTSTORE_CONNECTION_STRING and MONGODB_URI');
  }
  const eventStore = EsdbEventStore.fromConnectionString(config.EVENTSTORE_CONNECTION_STRING);
  const client = await MongoClient.connect(config.MONGODB_URI);
  const readStore = new MongoReadStore(client, config.MONGODB_DATABASE);
  const keyStore = new MongoKeyStore(client.db(config.MONGODB_DATABASE));
  const idempotencyStore = new MongoIdempotencyStore(client.db(config.MONGODB_DATABASE));
  return {
    eventStore,
    readStore,
    keyStore,
    idempotencyStore,
    agendaBackend: new MongoBackend({ mongo: client.db(config.MONGODB_DATABASE), collection: 'agenda_jobs' }),
    async close() {
      await eventStore.close();
      await readStore.close();
      await client.close();
    },
  };
}
