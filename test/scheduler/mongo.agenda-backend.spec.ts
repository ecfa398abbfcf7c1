import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { MongoClient } from 'mongodb';
import { MongoAgendaBackend, SchedulerStartError, uniqueJobIndexes } from '../../src/infrastructure/scheduler/mongo.agenda-backend.js';
import { UNIQUE_JOBS } from '../../src/runtime/production.stores.js';

describe('Agenda on MongoDB: unique job indexes', () => {
  it('indexes each unique job on the fields its unique() query names, unique over that job only', () => {
    expect(uniqueJobIndexes([{ name: 'send-reminder', dataKeys: ['userId'] }])).toEqual([
      {
        name: 'unique_send-reminder',
        key: { name: 1, 'data.userId': 1 },
        unique: true,
        partialFilterExpression: { name: 'send-reminder' },
      },
    ]);
  });

  it('covers every job the service saves with unique(), the reminder job keyed by user as on SQLite', () => {
    const keys = Object.fromEntries(uniqueJobIndexes(UNIQUE_JOBS).map((index) => [index.name, Object.keys(index.key)]));

    expect(keys).toEqual({
      'unique_send-reminder': ['name', 'data.userId'],
      'unique_expire-exemption': ['name', 'data.orgId', 'data.userId', 'data.version'],
      'unique_escalate-organisation': ['name', 'data.orgId'],
    });
  });
});

/** A MongoDB address on loopback that accepts TCP and hangs up at once: every command fails fast. */
async function startRefusingServer(): Promise<{ uri: string; close(): Promise<void> }> {
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true&serverSelectionTimeoutMS=300&connectTimeoutMS=300`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('Agenda on MongoDB: a start-up failure', () => {
  let unhandled: unknown[];
  const record = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeEach(() => {
    unhandled = [];
    process.on('unhandledRejection', record);
  });
  afterEach(() => {
    process.off('unhandledRejection', record);
  });

  async function settle(): Promise<void> {
    for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  it('is an awaited SchedulerStartError, never an unhandled rejection', async () => {
    const server = await startRefusingServer();
    const client = new MongoClient(server.uri);
    try {
      const opened = await MongoAgendaBackend.open(client.db('jobs'), 'agenda_jobs', UNIQUE_JOBS).then(
        () => null,
        (error: unknown) => error,
      );
      await settle();

      expect(opened).toBeInstanceOf(SchedulerStartError);
      expect((opened as Error).message).toContain('agenda_jobs');
      expect(unhandled).toEqual([]);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
