import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { DATABASE_FILE } from '../src/runtime/data-dir.files.js';
import { buildRuntime } from '../src/runtime/runtime.factory.js';
import { openSqlite } from '../src/infrastructure/sqlite/sqlite.database.js';
import { SqliteEventStore } from '../src/infrastructure/event-store/sqlite.event-store.js';
import { toNewEvents } from '../src/application/command-handling.js';
import { ProjectionRebuild } from '../src/projections/projection.rebuild.js';
import { projections } from '../src/runtime/service.js';
import { BENCH_SECRET, benchContext, SEALED, tempDir } from './bench-support.js';
import { appendsPerSec, SCALING_APPENDS } from './append.bench.js';

export interface RebuildResult {
  events: number;
  eventsPerSec: number;
  seconds: number;
  /** Single-event appends per second (appendsPerSec) on this history, once rebuilt: the scaling figure at 1,000,000 stored events. */
  appendsPerSecAfter: number;
}

/**
 * A realistic history: users register, enable 2FA and then mostly sign in (TwoFactorVerified),
 * organisations gain members and change modes. Written on a connection without per-commit fsync.
 */
async function seedHistory(dataDir: string, total: number): Promise<number> {
  const db = openSqlite(join(dataDir, DATABASE_FILE), { synchronous: 'NORMAL' });
  const store = new SqliteEventStore(db);
  const perUser = 100;
  const users = Math.ceil(total / (perUser + 1));
  let written = 0;
  for (let i = 0; i < users; i++) {
    const userId = `h${i}`;
    const events = [
      { type: 'UserRegistered', data: { userId, email: SEALED } },
      { type: 'TwoFactorSetupStarted', data: { secret: SEALED, expiresAt: '2026-01-01T00:15:00.000Z' } },
      { type: 'TwoFactorEnabled', data: { timeStep: 1 } },
      { type: 'BackupCodesGenerated', data: { hashes: Array.from({ length: 10 }, (_, k) => `scrypt$16384$8$1$c2FsdA==$${k}`), timeStep: 1 } },
      ...Array.from({ length: perUser - 4 }, (_, k) => ({ type: 'TwoFactorVerified', data: { timeStep: 2 + k, method: 'totp' } })),
    ];
    written += events.length;
    await store.append(`user-${userId}`, toNewEvents(events as never, benchContext()), 'no_stream');
  }
  for (let org = 0; org * 100 < users; org++) {
    const members = [];
    for (let i = org * 100; i < Math.min(users, (org + 1) * 100); i++) members.push({ type: 'MemberJoinedOrg', data: { userId: `h${i}`, role: 'member' } });
    const events = [{ type: 'OrganisationRegistered', data: { orgId: `horg${org}`, name: `Org ${org}` } }, ...members, { type: 'EnforcementModeChanged', data: { from: 'off', to: 'soft', reason: null } }];
    written += events.length;
    await store.append(`organisation-horg${org}`, toNewEvents(events as never, benchContext()), 'no_stream');
  }
  await store.close();
  db.close();
  return written;
}

/** Rebuilding every rebuildable read model from the whole history, as POST /v1/admin/projections/rebuild does. */
export async function rebuildBench(total = 1_000_000): Promise<RebuildResult> {
  const dir = tempDir('tfe-bench-rebuild-');
  try {
    const events = await seedHistory(dir.path, total);
    const runtime = await buildRuntime(loadConfig({ DATA_DIR: dir.path, AUTH_JWT_SECRET: BENCH_SECRET, ROLES: 'api', LOG_LEVEL: 'warn' }), { projections });
    const started = performance.now();
    const result = await new ProjectionRebuild(runtime.eventStore, runtime.readStore, runtime.projections, runtime.logger, null).runToEnd();
    const seconds = (performance.now() - started) / 1000;
    await runtime.close();
    if (result.state !== 'done') throw new Error(`rebuild ended ${result.state}: ${result.error}`);
    // The history took most of this step to write; a second one of the same size only for appends did not pay.
    const db = openSqlite(join(dir.path, DATABASE_FILE));
    const store = new SqliteEventStore(db);
    const appendsPerSecAfter = await appendsPerSec(store, SCALING_APPENDS);
    await store.close();
    db.close();
    return { events, eventsPerSec: Math.round(events / seconds), seconds: Math.round(seconds * 10) / 10, appendsPerSecAfter };
  } finally {
    dir.remove();
  }
}
