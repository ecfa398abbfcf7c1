import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { MongoClient } from 'mongodb';
import { MongoAgendaBackend, SchedulerStartError, uniqueJobIndexes } from '../../src/infrastructure/scheduler/mongo.agenda-backend.js';
import { UNIQUE_JOBS } from '../../src/runtime/production.stores.js';

/** Every `.unique({ name: JOB, 'data.x': … })` call under src/, with JOB resolved to its string. */
function uniqueCallsInSource(): { name: string; dataKeys: string[] }[] {
  const files = (readdirSync('src', { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join('src', f), 'utf8'));
  const constants = new Map<string, string>();
  for (const text of files) for (const m of text.matchAll(/export const ([A-Z_]+) = '([^']+)'/g)) constants.set(m[1]!, m[2]!);
  const calls: { name: string; dataKeys: string[] }[] = [];
  for (const text of files) {
    for (const m of text.matchAll(/\.unique\(\{\s*name:\s*([A-Z_]+),([^}]*)\}/g)) {
      calls.push({ name: constants.get(m[1]!) ?? m[1]!, dataKeys: [...m[2]!.matchAll(/'data\.(\w+)'/g)].map((k) => k[1]!) });
    }
  }
  return calls;
}

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

  it('covers every job the service saves with unique(), on the data keys its unique() query names', () => {
    const keys = Object.fromEntries(uniqueJobIndexes(UNIQUE_JOBS).map((index) => [index.name, Object.keys(index.key)]));

    // Read off the source, so a new unique job without its index fails here rather than in production.
    const saved = uniqueCallsInSource();
    expect(saved.length).toBeGreaterThanOrEqual(6);
    expect(keys).toEqual(Object.fromEntries(saved.map((job) => [`unique_${job.name}`, ['name', ...job.dataKeys.map((k) => `data.${k}`)]])));
    expect(keys['unique_send-reminder']).toEqual(['name', 'data.userId']);
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
