import { join } from 'node:path';
import { openSqlite } from '../src/infrastructure/sqlite/sqlite.database.js';
import { SqliteEventStore } from '../src/infrastructure/event-store/sqlite.event-store.js';
import { toNewEvents } from '../src/application/command-handling.js';
import { benchContext, tempDir } from './bench-support.js';

/** Appends per scaling point (few stored events, and the rebuild step's history). */
export const SCALING_APPENDS = 2_000;
/** Streams the measured appends rotate over. */
const STREAMS = 100;
const DATA = { orgId: 'org-1', userId: 'user-1', role: 'member', note: 'x'.repeat(120) };

export interface AppendResult {
  eventsPerSec: number;
  rawSqliteInsertsPerSec: number;
  ratio: number;
}

/** Single-event appends through the port (hash chain included) against raw inserts, same pragmas. */
export async function appendBench(events = 3_000, prefill = 0): Promise<AppendResult> {
  const dir = tempDir('tfe-bench-append-');
  try {
    const db = openSqlite(join(dir.path, 'events.sqlite'));
    const store = new SqliteEventStore(db);
    if (prefill > 0) await prefillStore(store, prefill);
    const eventsPerSec = await appendsPerSec(store, events);
    await store.close();
    db.close();

    const raw = openSqlite(join(dir.path, 'raw.sqlite'));
    raw.exec('CREATE TABLE raw_events (position INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT, revision INTEGER, event_id TEXT UNIQUE, type TEXT, data TEXT, metadata TEXT, UNIQUE (stream, revision))');
    const insert = raw.prepare('INSERT INTO raw_events (stream, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
    const payload = JSON.stringify(DATA);
    const metadata = JSON.stringify({ ...toNewEvents([{ type: 'MemberJoinedOrg', data: DATA }], benchContext())[0]!.metadata, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64) });
    const rawStarted = process.hrtime.bigint();
    for (let i = 0; i < events; i++) insert.run(`bench-${i % STREAMS}`, Math.floor(i / STREAMS), `id-${i}`, 'MemberJoinedOrg', payload, metadata);
    const rawSqliteInsertsPerSec = events / (Number(process.hrtime.bigint() - rawStarted) / 1e9);
    raw.close();
    return { eventsPerSec, rawSqliteInsertsPerSec: Math.round(rawSqliteInsertsPerSec), ratio: round2(eventsPerSec / rawSqliteInsertsPerSec) };
  } finally {
    dir.remove();
  }
}

/**
 * `events` single-event appends, one after the other (each waits for its commit), over 100 new
 * streams: what a command that appends one event costs in the store.
 */
export async function appendsPerSec(store: SqliteEventStore, events: number): Promise<number> {
  const revisions = new Array<number>(STREAMS).fill(-1);
  const started = process.hrtime.bigint();
  for (let i = 0; i < events; i++) {
    const s = i % STREAMS;
    const result = await store.append(`bench-${s}`, toNewEvents([{ type: 'MemberJoinedOrg', data: DATA }], benchContext()), revisions[s]! < 0 ? 'no_stream' : revisions[s]!);
    revisions[s] = result.nextRevision;
  }
  return Math.round(events / (Number(process.hrtime.bigint() - started) / 1e9));
}

/** Fills the store quickly with many-event appends (one transaction each) to test scaling. */
async function prefillStore(store: SqliteEventStore, total: number): Promise<void> {
  const batch = 1_000;
  for (let done = 0; done < total; done += batch) {
    const events = Array.from({ length: Math.min(batch, total - done) }, () => ({ type: 'MemberJoinedOrg', data: DATA }));
    await store.append(`prefill-${done / batch}`, toNewEvents(events, benchContext()), 'no_stream');
  }
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
