import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SqliteEventStore } from '../../src/infrastructure/event-store/sqlite.event-store.js';
import { EventIdConflictError, type EventStore } from '../../src/ports/event-store.port.js';
import { openSqlite } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { eventStoreContract, expectValidChain, newEvent, type EventStoreFixture } from './event-store.contract.js';

const FAST = { pollIntervalMs: 50, retry: { initialMs: 5, maxMs: 20 } } as const;
const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface SqliteFixture extends EventStoreFixture {
  readonly path: string;
  reopen(): Promise<EventStore>;
}

async function sqliteFixture(): Promise<SqliteFixture> {
  const dir = makeTempDir('tfe-events-');
  const path = join(dir.path, 'store.sqlite');
  let db = openSqlite(path);
  let store = new SqliteEventStore(db, FAST);
  return {
    path,
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      db.close();
      db = openSqlite(path);
      store = new SqliteEventStore(db, FAST);
      return store;
    },
    async dispose() {
      await store.close();
      db.close();
      dir.remove();
    },
  };
}

eventStoreContract('SQLite', sqliteFixture);

describe('SqliteEventStore specifics', () => {
  let fixture: SqliteFixture;
  beforeEach(async () => {
    fixture = await sqliteFixture();
  });
  afterEach(async () => {
    await fixture.dispose();
  });

  it('has no head position and nothing to read when empty', async () => {
    expect(await fixture.store.headPosition()).toBeNull();
    expect(await fixture.store.readAll()).toEqual([]);
  });

  it('migrates a file from before ids were unique per stream, keeping rows, positions and the counter', async () => {
    const dir = makeTempDir('tfe-events-migrate-');
    try {
      const path = join(dir.path, 'old.sqlite');
      const old = openSqlite(path);
      old.exec(OLD_SCHEMA);
      const insert = old.prepare('INSERT INTO events (position, stream, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)');
      const shared = newEvent('Old');
      insert.run(7, 'stream-one', 0, shared.metadata.eventId, 'Old', '{}', JSON.stringify({ ...shared.metadata, prevHash: '', hash: 'h' }));
      old.close();

      const db = openSqlite(path);
      const store = new SqliteEventStore(db, FAST);
      try {
        expect(await store.readStream('stream-one')).toMatchObject([{ position: '7', revision: 0, metadata: { eventId: shared.metadata.eventId } }]);
        const sameIdElsewhere = await store.append('stream-two', [shared], 'no_stream');
        expect(Number(sameIdElsewhere.position)).toBe(8);
        await expect(store.append('stream-one', [shared, newEvent('New')], 'any')).rejects.toBeInstanceOf(EventIdConflictError);
        const table = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'events'").get() as { sql: string };
        expect(table.sql).toContain('UNIQUE (stream, event_id)');
      } finally {
        await store.close();
        db.close();
      }
    } finally {
      dir.remove();
    }
  });

  it('answers a retry sent while the original is still being committed with the original result, storing it once', async () => {
    const events = [newEvent('A'), newEvent('B')];
    const [original, retry] = await Promise.all([
      fixture.store.append('in-flight', events, 'no_stream'),
      fixture.store.append('in-flight', events, 'no_stream'),
    ]);
    expect(retry).toEqual(original);
    expect(await fixture.store.readStream('in-flight')).toHaveLength(2);
  });

  it('orders appends to one stream issued together one after the other, each chained on the last', async () => {
    const appends = Array.from({ length: 5 }, (_, i) => fixture.store.append('together', [newEvent(`E${i}`)], 'any'));
    const results = await Promise.all(appends);
    expect(results.map((result) => result.nextRevision)).toEqual([0, 1, 2, 3, 4]);
    const stored = await fixture.store.readStream('together');
    expect(stored.map((event) => event.type)).toEqual(['E0', 'E1', 'E2', 'E3', 'E4']);
    expectValidChain(stored);
  });

  it('keeps the event loop free while another connection holds the write lock, and commits once it is released', async () => {
    await fixture.store.append('locked', [newEvent('Before')], 'no_stream');
    const other = openSqlite(fixture.path);
    try {
      other.exec('BEGIN IMMEDIATE');
      let settled = false;
      const appending = fixture.store.append('locked', [newEvent('While')], 0).finally(() => (settled = true));
      // Timers fire and reads answer on this thread meanwhile: the commit waits on the writer's thread.
      let ticks = 0;
      while (ticks < 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        ticks++;
        expect(await fixture.store.readStream('locked')).toHaveLength(1);
      }
      expect(settled).toBe(false);
      other.exec('COMMIT');
      expect(await appending).toMatchObject({ nextRevision: 1 });
      expectValidChain(await fixture.store.readStream('locked'));
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  });

  it('decides an append again when another process wrote its stream between the decision and the commit', async () => {
    const other = openSqlite(fixture.path);
    try {
      other.exec('BEGIN IMMEDIATE');
      // Both are decided now, against empty streams, and wait for the lock to commit.
      const loose = fixture.store.append('contended', [newEvent('Loose')], 'any');
      const strict = fixture.store.append('contended-strict', [newEvent('Strict')], 'no_stream');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const insert = other.prepare("INSERT INTO events (stream, revision, event_id, type, data, metadata) VALUES (?, 0, ?, 'Elsewhere', '{}', ?)");
      for (const stream of ['contended', 'contended-strict']) insert.run(stream, randomUUID(), JSON.stringify({ hash: `hash-of-${stream}` }));
      other.exec('COMMIT');

      const [looseResult, strictResult] = await Promise.allSettled([loose, strict]);
      expect(looseResult).toMatchObject({ status: 'fulfilled', value: { nextRevision: 1 } });
      const stored = await fixture.store.readStream('contended');
      expect(stored.map((event) => [event.type, event.metadata.prevHash])).toEqual([['Elsewhere', undefined], ['Loose', 'hash-of-contended']]);
      expect(strictResult).toMatchObject({ status: 'rejected', reason: { name: 'WrongExpectedRevisionError' } });
      expect(await fixture.store.readStream('contended-strict')).toHaveLength(1);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  });

  it('commits an append chained after another of its batch only on that append, not on what another process put at the same revision', async () => {
    const [loosely, pinned] = ['chained-loosely', 'chained-pinned'];
    for (const stream of [loosely, pinned]) await fixture.store.append(stream, [newEvent('Mine')], 'no_stream');
    const other = openSqlite(fixture.path);
    try {
      other.exec('BEGIN IMMEDIATE');
      // Decided now on the heads this store committed, each second append chained after the first
      // in the batch, all waiting for the lock.
      const first = newEvent('First');
      const firstPinned = newEvent('First');
      const appends = [
        fixture.store.append(loosely, [first], 0),
        fixture.store.append(loosely, [newEvent('Loose')], 'any'),
        fixture.store.append(pinned, [firstPinned], 0),
        fixture.store.append(pinned, [newEvent('Pinned')], 1, { expectedLastEventId: firstPinned.metadata.eventId }),
      ];
      await new Promise((resolve) => setTimeout(resolve, 100));
      const insert = other.prepare("INSERT INTO events (stream, revision, event_id, type, data, metadata) VALUES (?, 1, ?, 'Elsewhere', '{}', ?)");
      for (const stream of [loosely, pinned]) insert.run(stream, randomUUID(), JSON.stringify({ hash: `hash-of-${stream}` }));
      other.exec('COMMIT');

      const outcomes = await Promise.allSettled(appends);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'rejected']);
      const stored = await fixture.store.readStream(loosely);
      expect(stored.map((event) => event.type)).toEqual(['Mine', 'Elsewhere', 'Loose']);
      expect(stored[2]!.metadata.prevHash).toBe(`hash-of-${loosely}`);
      expect((await fixture.store.readStream(pinned)).map((event) => event.type)).toEqual(['Mine', 'Elsewhere']);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  });

  it('decides on what is stored, not on the head it committed last, once another process appended to the stream', async () => {
    await fixture.store.append('remembered', [newEvent('Mine')], 'no_stream');
    const other = openSqlite(fixture.path);
    try {
      other
        .prepare("INSERT INTO events (stream, revision, event_id, type, data, metadata) VALUES ('remembered', 1, ?, 'Elsewhere', '{}', ?)")
        .run(randomUUID(), JSON.stringify({ hash: 'hash-of-elsewhere' }));
    } finally {
      other.close();
    }

    await expect(fixture.store.append('remembered', [newEvent('Stale')], 0)).rejects.toMatchObject({ name: 'WrongExpectedRevisionError' });
    expect(await fixture.store.append('remembered', [newEvent('Loose')], 'any')).toMatchObject({ nextRevision: 2 });
    expect(await fixture.store.append('remembered', [newEvent('Exact')], 2)).toMatchObject({ nextRevision: 3 });
    const stored = await fixture.store.readStream('remembered');
    expect(stored.map((event) => event.type)).toEqual(['Mine', 'Elsewhere', 'Loose', 'Exact']);
    expect(stored[2]!.metadata.prevHash).toBe('hash-of-elsewhere');
    expect(stored[3]!.metadata.prevHash).toBe(stored[2]!.metadata.hash);
  });

  it('refuses a retry that only partly matches what was stored', async () => {
    const [a, b] = [newEvent('A'), newEvent('B')];
    await fixture.store.append('stream-one', [a, b], 'no_stream');

    await expect(fixture.store.append('stream-one', [a, newEvent('C')], 'no_stream')).rejects.toBeInstanceOf(
      EventIdConflictError,
    );
    await expect(fixture.store.append('stream-one', [a, b, newEvent('C')], 'no_stream')).rejects.toBeInstanceOf(
      EventIdConflictError,
    );
    expect(await fixture.store.readStream('stream-one')).toHaveLength(2);
  });

  it('delivers to a live subscription what another connection to the same file appended', async () => {
    const delivered: string[] = [];
    const subscription = fixture.store.subscribe(async (event) => {
      delivered.push(event.metadata.eventId);
    });
    const otherDb = openSqlite(fixture.path);
    const otherProcess = new SqliteEventStore(otherDb, FAST);
    try {
      const local = newEvent('Local');
      await fixture.store.append('here', [local], 'no_stream');
      await waitUntil(() => delivered.length === 1);
      // The delivery loop runs on microtasks only, so after a few event-loop turns it is caught up
      // and asleep; the other store cannot wake it, only the poll can find the new row.
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      const remote = newEvent('FromElsewhere');
      await otherProcess.append('elsewhere', [remote], 'no_stream');
      await waitUntil(() => delivered.length === 2);
      expect(delivered).toEqual([local.metadata.eventId, remote.metadata.eventId]);
    } finally {
      await subscription.stop();
      await otherProcess.close();
      otherDb.close();
    }
  });

  it('wakes every subscription through one watch of the head when another connection appends', async () => {
    const db = openSqlite(fixture.path);
    // Fallback reads far beyond the wait below: only the head watch can deliver in time.
    const store = new SqliteEventStore(db, { ...FAST, fallbackPollMs: 600_000 });
    const otherDb = openSqlite(fixture.path);
    const otherProcess = new SqliteEventStore(otherDb, FAST);
    const delivered: string[][] = [[], []];
    const subscriptions = delivered.map((into) => store.subscribe(async (event) => void into.push(event.metadata.eventId)));
    try {
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      const remote = newEvent('FromElsewhere');
      await otherProcess.append('elsewhere', [remote], 'no_stream');
      await waitUntil(() => delivered.every((into) => into.length === 1));
      expect(delivered).toEqual([[remote.metadata.eventId], [remote.metadata.eventId]]);
    } finally {
      await Promise.all(subscriptions.map((subscription) => subscription.stop()));
      await store.close();
      await otherProcess.close();
      db.close();
      otherDb.close();
    }
  });

  it('looks for another connection\'s appends more often for an urgent subscription, and still wakes the others', async () => {
    const db = openSqlite(fixture.path);
    // The others' pace far beyond the urgent one's, and no fallback reads: only the watch delivers.
    const store = new SqliteEventStore(db, { ...FAST, pollIntervalMs: 1_500, urgentPollIntervalMs: 20, fallbackPollMs: 600_000 });
    const otherDb = openSqlite(fixture.path);
    const otherProcess = new SqliteEventStore(otherDb, FAST);
    const arrivals: string[] = [];
    const regular = store.subscribe(async () => void arrivals.push('regular'));
    const urgent = store.subscribe(async () => void arrivals.push('urgent'), { urgent: true });
    try {
      // An append of this store wakes both at once, and so starts the others' pace.
      await store.append('here', [newEvent('Local')], 'no_stream');
      await waitUntil(() => arrivals.length === 2);
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      await otherProcess.append('elsewhere', [newEvent('FromElsewhere')], 'no_stream');
      await waitUntil(() => arrivals.length === 4);
      expect(arrivals.slice(2)).toEqual(['urgent', 'regular']);
    } finally {
      await Promise.all([regular.stop(), urgent.stop()]);
      await store.close();
      await otherProcess.close();
      db.close();
      otherDb.close();
    }
  });

  it('settles the appends of one turn in call order, the later seeing the earlier', async () => {
    const [a, b, c] = [newEvent('A'), newEvent('B'), newEvent('C')];
    const results = await Promise.all([
      fixture.store.append('together', [a], 'no_stream'),
      fixture.store.append('together', [b], 0),
      fixture.store.append('together', [c], 1),
    ]);

    expect(results.map((r) => r.nextRevision)).toEqual([0, 1, 2]);
    const stored = await fixture.store.readStream('together');
    expect(stored.map((e) => e.metadata.eventId)).toEqual([a, b, c].map((e) => e.metadata.eventId));
    expectValidChain(stored);
  });

  it('rejects every append of a batch whose commit fails, stores none of them, and recovers', async () => {
    const db = openSqlite(fixture.path);
    db.pragma('busy_timeout = 50');
    const store = new SqliteEventStore(db, FAST);
    const locker = openSqlite(fixture.path);
    locker.exec('BEGIN IMMEDIATE');
    try {
      const outcomes = await Promise.allSettled([
        store.append('one', [newEvent('A')], 'no_stream'),
        store.append('two', [newEvent('B')], 'any'),
      ]);
      expect(outcomes.map((o) => o.status === 'rejected' && (o.reason as { code?: string }).code)).toEqual(['SQLITE_BUSY', 'SQLITE_BUSY']);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    try {
      expect(await store.readAll()).toEqual([]);
      expect(await store.append('one', [newEvent('A')], 'no_stream')).toMatchObject({ nextRevision: 0 });
    } finally {
      await store.close();
      db.close();
    }
  });

  it('commits appends accepted before close() rather than dropping them', async () => {
    const event = newEvent('Late');
    const accepted = fixture.store.append('late', [event], 'no_stream');

    const reopened = await fixture.reopen();

    await expect(accepted).resolves.toMatchObject({ nextRevision: 0 });
    expect((await reopened.readStream('late')).map((e) => e.metadata.eventId)).toEqual([event.metadata.eventId]);
    await expect(reopened.append('late', [newEvent('AfterClose')], 0)).resolves.toMatchObject({ nextRevision: 1 });
  });

  it('tells the handler whether the next event is already read and follows at once', async () => {
    await fixture.store.append('batch', [newEvent('A'), newEvent('B'), newEvent('C')], 'no_stream');
    const deliveries: boolean[] = [];
    const subscription = fixture.store.subscribe(async (_event, delivery) => {
      deliveries.push(delivery.more);
    });
    try {
      await waitUntil(() => deliveries.length === 3);
      await fixture.store.append('batch', [newEvent('D')], 2);
      await waitUntil(() => deliveries.length === 4);
      expect(deliveries).toEqual([true, true, false, false]);
    } finally {
      await subscription.stop();
    }
  });

  it('keeps every acknowledged append when the writing process is killed with SIGKILL', async () => {
    const acknowledged = await appendInChildUntilKilled(fixture.path, 40);

    const reopened = await fixture.reopen();
    for (const ack of acknowledged) {
      const [stored] = await reopened.readStream(ack.stream, { fromRevision: ack.revision, limit: 1 });
      expect(stored).toMatchObject({ revision: ack.revision, position: ack.position, metadata: { eventId: ack.eventId } });
    }
    for (const stream of new Set(acknowledged.map((ack) => ack.stream))) {
      const events = await reopened.readStream(stream);
      expectValidChain(events);
      const result = await reopened.append(stream, [newEvent('AfterCrash')], events.at(-1)!.revision);
      expect(result.nextRevision).toBe(events.length);
    }
  });
});

/** The events table as files written before ids became unique per stream have it. */
const OLD_SCHEMA = `
  CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    revision INTEGER NOT NULL CHECK (revision >= 0),
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    data TEXT NOT NULL CHECK (json_valid(data)),
    metadata TEXT NOT NULL CHECK (json_valid(metadata)),
    UNIQUE (stream, revision)
  ) STRICT;
  CREATE INDEX events_by_type ON events (type, position);
`;

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 400 && !condition(); attempt++) await new Promise((r) => setTimeout(r, 25));
}

interface Acknowledgement {
  readonly stream: string;
  readonly eventId: string;
  readonly revision: number;
  readonly position: string;
}

/**
 * A child node process appends through the real adapter (transpiled on the fly, since there is no
 * build step in tests) and prints each acknowledged append; the parent kills it mid-stream.
 */
async function appendInChildUntilKilled(databasePath: string, acknowledgementsBeforeKill: number): Promise<Acknowledgement[]> {
  const workDir = makeTempDir('tfe-child-');
  try {
    const script = join(workDir.path, 'append-until-killed.mjs');
    writeFileSync(script, CHILD_SCRIPT);
    const child = spawn(process.execPath, [script, PROJECT_ROOT, workDir.path, databasePath, randomUUID()], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const acknowledged: Acknowledgement[] = [];
    for await (const line of createInterface({ input: child.stdout })) {
      acknowledged.push(JSON.parse(line) as Acknowledgement);
      if (acknowledged.length === acknowledgementsBeforeKill) child.kill('SIGKILL');
    }
    await exited;
    if (acknowledged.length < acknowledgementsBeforeKill) throw new Error(`child failed early: ${stderr}`);
    expect(child.signalCode).toBe('SIGKILL');
    return acknowledged;
  } finally {
    workDir.remove();
  }
}

const CHILD_SCRIPT = String.raw`
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, outDir, databasePath, runId] = process.argv.slice(2);
const requireFromRoot = createRequire(join(root, 'package.json'));
const ts = requireFromRoot('typescript');
writeFileSync(join(outDir, 'package.json'), '{"type":"module"}');
// Packages resolve from the project, not from this temp dir: bare specifiers become file URLs.
const toProjectPackage = (code) =>
  code.replace(/from '([^.'][^']*)'/g, (whole, name) =>
    name.startsWith('node:') ? whole : "from '" + pathToFileURL(requireFromRoot.resolve(name)).href + "'");

const transpiled = new Set();
function transpile(file) {
  if (transpiled.has(file)) return;
  transpiled.add(file);
  const source = readFileSync(file, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, useDefineForClassFields: true },
  });
  const target = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, toProjectPackage(outputText));
  for (const match of source.matchAll(/from\s+'(\.{1,2}\/[^']+)\.js'/g)) transpile(resolve(dirname(file), match[1] + '.ts'));
  // Worker threads' entry files are plain JavaScript already (see sqlite.event-writer.worker.js).
  for (const match of source.matchAll(/new URL\('(\.{1,2}\/[^']+\.js)'/g)) {
    const worker = resolve(dirname(file), match[1]);
    writeFileSync(join(outDir, relative(root, worker)), toProjectPackage(readFileSync(worker, 'utf8')));
  }
}
transpile(join(root, 'src/infrastructure/event-store/sqlite.event-store.ts'));
transpile(join(root, 'src/infrastructure/sqlite/sqlite.database.ts'));

const load = (path) => import(pathToFileURL(join(outDir, path)).href);
const { SqliteEventStore } = await load('src/infrastructure/event-store/sqlite.event-store.js');
const { openSqlite } = await load('src/infrastructure/sqlite/sqlite.database.js');
const store = new SqliteEventStore(openSqlite(databasePath));

// Bounded: the parent kills this process long before the loop could end.
for (let i = 0; i < 100000; i++) {
  const stream = 'durable-' + runId + '-' + (i % 3);
  const eventId = crypto.randomUUID();
  const result = await store.append(stream, [{
    type: 'DurabilityProbe',
    data: { i },
    metadata: { eventId, occurredAt: new Date(0).toISOString(), actor: { id: 'child', roles: [] },
      correlationId: eventId, causationId: eventId, schemaVersion: 1 },
  }], 'any');
  process.stdout.write(JSON.stringify({ stream, eventId, revision: result.nextRevision, position: result.position }) + '\n');
}
`;
