import { SystemClock } from '../src/kernel/clock.js';
import { loadConfig } from '../src/config/config.js';
import { EnforcementDecisionHandler, EnforcementDecisionQuery, EnforcementDecisions } from '../src/enforcement/enforcement.query.js';
import { ENFORCEMENT, membershipKey, type EnforcementDoc } from '../src/enforcement/enforcement.projection.js';
import { openSqlite } from '../src/infrastructure/sqlite/sqlite.database.js';
import { SqliteReadStore } from '../src/infrastructure/read-store/sqlite.read-store.js';
import type { WriteOp } from '../src/ports/read-store.port.js';
import type { ReadModelProgress } from '../src/projections/read-model-progress.js';
import { percentile, tempDir } from './bench-support.js';
import { join } from 'node:path';

export interface DecisionResult {
  opsPerSec: number;
  p99Us: number;
  p50Us: number;
  users: number;
}

const ALWAYS_CAUGHT_UP: ReadModelProgress = { isRunning: () => true, waitFor: async () => true, headPosition: async () => null };

/**
 * Fills the enforcement read model directly (as the projection would have) so that the lookup can
 * be measured at 1,000 to 1,000,000 users without replaying millions of events first.
 */
export async function seedEnforcementDocs(store: SqliteReadStore, users: number): Promise<void> {
  const batch = 10_000;
  for (let start = 0; start < users; start += batch) {
    const ops: WriteOp[] = [];
    for (let i = start; i < Math.min(users, start + batch); i++) {
      const orgId = `org${Math.floor(i / 100)}`;
      ops.push({ kind: 'upsert', collection: ENFORCEMENT, doc: { id: `u${i}`, twoFactorEnabled: i % 3 === 0, forgotten: false, orgs: { [membershipKey(orgId)]: { orgId, mode: i % 2 ? 'hard' : 'soft', xeroConnected: i % 5 === 0 } } } });
    }
    await store.write(ops);
  }
}

/** The decision query handler called in-process, read model lookup included. */
export async function decisionInProcessBench(users = 10_000, calls = 200_000): Promise<DecisionResult> {
  const dir = tempDir('tfe-bench-decision-');
  try {
    const db = openSqlite(join(dir.path, 'read.sqlite'));
    const store = new SqliteReadStore(db);
    await seedEnforcementDocs(store, users);
    const config = loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32) });
    const docs = { get: (userId: string) => store.get<EnforcementDoc>(ENFORCEMENT, userId) };
    const handler = new EnforcementDecisionHandler(new EnforcementDecisions(docs, ALWAYS_CAUGHT_UP, config, new SystemClock()));
    const principal = { id: 'host-platform', roles: ['platform' as const] };
    const samples = new Float64Array(calls);
    for (let i = 0; i < 5_000; i++) await handler.execute(new EnforcementDecisionQuery(principal, `u${i % users}`, null, undefined));
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) {
      const t0 = process.hrtime.bigint();
      await handler.execute(new EnforcementDecisionQuery(principal, `u${(i * 7919) % users}`, null, undefined));
      samples[i] = Number(process.hrtime.bigint() - t0) / 1_000;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const sorted = Array.from(samples).sort((a, b) => a - b);
    db.close();
    return { opsPerSec: Math.round(calls / seconds), p99Us: Math.round(percentile(sorted, 99) * 10) / 10, p50Us: Math.round(percentile(sorted, 50) * 10) / 10, users };
  } finally {
    dir.remove();
  }
}
