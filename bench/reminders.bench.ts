import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { DATABASE_FILE, MASTER_KEY_FILE } from '../src/runtime/data-dir.files.js';
import { openSqlite } from '../src/infrastructure/sqlite/sqlite.database.js';
import { SqliteEventStore } from '../src/infrastructure/event-store/sqlite.event-store.js';
import { SqliteKeyStore } from '../src/infrastructure/crypto/sqlite.key-store.js';
import { PersonalDataCipher } from '../src/personal-data/personal-data.cipher.js';
import { resolveMasterKey } from '../src/infrastructure/crypto/master-key.js';
import { toNewEvents } from '../src/application/command-handling.js';
import { projectorRuntime, waitForReadModels } from './seeded-service.js';
import { ROOT, benchContext, startRoleProcess, startServiceProcess, tempDir, token } from './bench-support.js';
import { round2 } from './append.bench.js';

export interface RemindersResult {
  users: number;
  seconds: number;
  /** The larger of the two service processes' peak RSS. */
  peakRssMb: number;
  /** Both service processes' peak RSS added up. */
  peakRssMbTotal: number;
  remindersPerSec: number;
}

/** The SMTP sink in its own process (bench/smtp-sink.server.ts); asks it how many recipients it has seen. */
async function smtpSink(): Promise<{ url: string; recipients(): Promise<number>; close(): Promise<void> }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/bench/smtp-sink.server.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<number> => {
    const line = await lines.next();
    if (line.done) throw new Error('the SMTP sink exited');
    return Number(line.value);
  };
  const port = await next();
  return {
    url: `smtp://127.0.0.1:${port}`,
    recipients: () => {
      child.stdin!.write('?\n');
      return next();
    },
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}

/**
 * Users with real encrypted emails (each with its own data key) and their memberships, written
 * through the real adapters, so the data is what the service would have written. Batched, as
 * seeding is not measured: a batch's data keys go in one transaction on the main connection, then
 * its registrations are appended all at once, so the event store's group commit writes them in a
 * few transactions (and fsyncs) instead of one per user.
 */
async function seed(dataDir: string, users: number, perOrg: number): Promise<void> {
  const db = openSqlite(join(dataDir, DATABASE_FILE), { synchronous: 'NORMAL' });
  const events = new SqliteEventStore(db);
  const cipher = new PersonalDataCipher(new SqliteKeyStore(db), resolveMasterKey(undefined, join(dataDir, MASTER_KEY_FILE)));
  for (let from = 0; from < users; from += SEED_BATCH) {
    const userIds = Array.from({ length: Math.min(SEED_BATCH, users - from) }, (_, i) => `r${from + i}`);
    // Nothing else writes on this connection meanwhile: the appends below wait for this commit.
    db.exec('BEGIN IMMEDIATE');
    const emails = await Promise.all(userIds.map((userId) => cipher.encrypt(userId, 'email', `${userId}@example.test`))).then(
      (encrypted) => (db.exec('COMMIT'), encrypted),
      (error: unknown) => {
        db.exec('ROLLBACK');
        throw error;
      },
    );
    await Promise.all(userIds.map((userId, i) => events.append(`user-${userId}`, toNewEvents([{ type: 'UserRegistered', data: { userId, email: emails[i]! } }], benchContext()), 'no_stream')));
  }
  const orgs = Math.ceil(users / perOrg);
  for (let from = 0; from < orgs; from += SEED_BATCH / perOrg) {
    const batch = Array.from({ length: Math.min(SEED_BATCH / perOrg, orgs - from) }, (_, i) => from + i);
    await Promise.all(batch.map((org) => {
      const members = [];
      for (let i = org * perOrg; i < Math.min(users, (org + 1) * perOrg); i++) members.push({ type: 'MemberJoinedOrg', data: { userId: `r${i}`, role: i === org * perOrg ? 'admin' : 'member' } });
      return events.append(`organisation-rorg${org}`, toNewEvents([{ type: 'OrganisationRegistered', data: { orgId: `rorg${org}`, name: `Org ${org}` } }, ...members], benchContext()), 'no_stream');
    }));
  }
  await events.close();
  db.close();
}

/** Users (and their data keys) written per batch while seeding; a multiple of the organisation size. */
const SEED_BATCH = 1_000;

/**
 * `users` users without 2FA in organisations of 100 members; the clock starts when the first
 * organisation is switched to hard over HTTP and stops when the sink has accepted a first
 * reminder for every user. The service runs as production would run it at this scale: the
 * scheduler role in a process of its own, the API and the projector in another; each peak RSS is
 * the kernel's high-water mark for that process, read before it stops.
 */
export async function remindersBench(users = 100_000, timeoutSeconds = 900): Promise<RemindersResult> {
  const dir = tempDir('tfe-bench-reminders-');
  const sink = await smtpSink();
  try {
    const perOrg = 100;
    const orgs = Math.ceil(users / perOrg);
    const seeding = performance.now();
    // Projects while the seed is written, as the projector follows live appends.
    const projector = await projectorRuntime(dir.path);
    await seed(dir.path, users, perOrg);
    const seeded = performance.now();
    await waitForReadModels(projector, 900_000);
    await projector.close();
    process.stderr.write(`(seeded ${users} users in ${Math.round((seeded - seeding) / 1000)} s, projected ${Math.round((performance.now() - seeded) / 1000)} s later) `);
    const roles = { DATA_DIR: dir.path, SMTP_URL: sink.url, SCHEDULER_PROCESS_EVERY: '0.5 seconds' };
    const scheduler = await startRoleProcess({ ...roles, ROLES: 'scheduler' });
    const service = await startServiceProcess({ ...roles, ROLES: 'api,projector' });
    try {
      const auth = `Bearer ${await token('bench-operator', ['platform'])}`;
      const started = performance.now();
      await inParallel(orgs, SWITCHES_IN_FLIGHT, async (org) => {
        const response = await fetch(`${service.url}/v1/organisations/rorg${org}/enforcement`, {
          method: 'PUT',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify({ mode: 'hard', reason: 'bench' }),
        });
        if (!response.ok) throw new Error(`switching rorg${org} to hard answered ${response.status}: ${await response.text()}`);
      });
      const deadline = started + timeoutSeconds * 1000;
      let reached = 0;
      while ((reached = await sink.recipients()) < users && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
      const seconds = (performance.now() - started) / 1000;
      const peaks = [peakRssOf(service.child.pid!), peakRssOf(scheduler.pid)];
      return { users: reached, seconds: round2(seconds), peakRssMb: Math.max(...peaks), peakRssMbTotal: peaks[0]! + peaks[1]!, remindersPerSec: Math.round(reached / seconds) };
    } finally {
      await service.stop();
      await scheduler.stop();
    }
  } finally {
    await sink.close();
    dir.remove();
  }
}

const SWITCHES_IN_FLIGHT = 16;

async function inParallel(count: number, width: number, call: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, count) }, async () => {
    while (next < count) await call(next++);
  }));
}

/** VmHWM: the most resident memory the process has had since it started, in MiB. */
function peakRssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
  if (!Number.isFinite(kib)) throw new Error('no VmHWM in /proc status');
  return Math.round(kib / 1024);
}
