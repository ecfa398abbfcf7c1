import { MongoClient } from 'mongodb';
import type { Config } from '../config/config.js';
import { MongoKeyStore } from '../infrastructure/crypto/mongo.key-store.js';
import { EsdbEventStore } from '../infrastructure/event-store/esdb.event-store.js';
import { MongoIdempotencyStore } from '../infrastructure/idempotency/mongo.idempotency-store.js';
import { MongoReadStore } from '../infrastructure/read-store/mongo.read-store.js';
import { MongoAgendaBackend, type UniqueJob } from '../infrastructure/scheduler/mongo.agenda-backend.js';
import { ESCALATE_JOB } from '../organisations/escalation.jobs.js';
import { EXPIRE_EXEMPTION_JOB } from '../organisations/exemption-expiry.jobs.js';
import { SEND_REMINDER_JOB } from '../reminders/agenda.reminder-jobs.js';
import { DIGEST_PERIOD_JOB, SEND_DIGEST_JOB } from '../reminders/admin-digest.jobs.js';
import { SEND_NOTICE_JOB } from '../reminders/notice.jobs.js';
import type { ProfileStores } from './profile.stores.js';

/** The jobs saved with unique(..., { insertOnly: true }), by the data keys their unique() query names. */
export const UNIQUE_JOBS: readonly UniqueJob[] = [
  { name: SEND_REMINDER_JOB, dataKeys: ['userId'] },
  { name: EXPIRE_EXEMPTION_JOB, dataKeys: ['orgId', 'userId', 'version'] },
  { name: ESCALATE_JOB, dataKeys: ['orgId'] },
  { name: SEND_NOTICE_JOB, dataKeys: ['causeId'] },
  { name: SEND_DIGEST_JOB, dataKeys: ['orgId', 'adminId', 'period'] },
  { name: DIGEST_PERIOD_JOB, dataKeys: ['period'] },
];

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
  const agendaBackend = await MongoAgendaBackend.open(client.db(config.MONGODB_DATABASE), 'agenda_jobs', UNIQUE_JOBS).catch(async (error: unknown) => {
    await Promise.all([eventStore.close(), client.close()]);
    throw error;
  });
  return {
    eventStore,
    readStore,
    keyStore,
    idempotencyStore,
    agendaBackend,
    async close() {
      await eventStore.close();
      await readStore.close();
      await client.close();
    },
  };
}
