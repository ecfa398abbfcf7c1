import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DERIVED_DATABASE_FILE } from '../../src/runtime/data-dir.files.js';
import { makeTempDir } from '../support/temp-dir.js';
import { buildDist, startServiceProcess, waitUntil, type ServiceProcess } from './service-process.js';

/**
 * kill -9 under load: 20 times, the real service (embedded profile, its own DATA_DIR, loopback)
 * takes commands at a steady rate and is killed with SIGKILL while requests are in flight, then
 * started again on the same directory. Whatever it answered 2xx must have survived: in the history
 * at the position it answered, replayed from its Idempotency-Key record, visible in the read
 * models; the hash chains verify; and the read models equal a rebuild from history.
 *
 * The scheduler role is left out (ROLES=api,projector): a reminder sent between the two read-model
 * snapshots would make them differ for a reason that has nothing to do with the crash.
 */

const ROUNDS = 20;
const RATE_PER_SECOND = 150;
const MAX_COMMANDS_PER_ROUND = 300;
const ANSWERS_BEFORE_KILL = 10;
/** Read models of the rebuildable projections; the sagas' own state is never rebuilt. */
const REBUILT = ['organisations', 'org_members', 'users', 'enforcement', 'enforcement_orgs', 'enforcement_members', 'reminder_history'];
const ENV = { ROLES: 'api,projector', READ_YOUR_WRITES_TIMEOUT_MS: '10000' };

type Kind = 'register_org' | 'register_user' | 'set_member' | 'set_mode';

interface Command {
  readonly kind: Kind;
  readonly method: 'POST' | 'PUT';
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly key: string;
  readonly stream: string;
  readonly orgId?: string;
  readonly userId?: string;
}

interface Acknowledged {
  readonly command: Command;
  readonly status: number;
  readonly body: { revision: number; position: string } & Record<string, unknown>;
}

interface Counts {
  rounds: number;
  sent: number;
  answered2xx: number;
  answered4xx: number;
  unanswered: number;
  lost: number;
  replayMismatches: number;
  readModelMismatches: number;
  rebuildMismatches: number;
  integrityFailures: number;
  eventsAtEnd: number;
  byKind: Record<Kind, number>;
}

interface LoadOutcome {
  readonly sent: number;
  readonly refused: number;
  readonly unanswered: number;
  readonly acknowledged: Acknowledged[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('kill -9 under load (real processes, embedded profile)', () => {
  const temp = makeTempDir('tfe-kill-');
  const dataDir = join(temp.path, 'data');
  let service: ServiceProcess | null = null;

  beforeAll(() => buildDist(), 250_000);
  afterAll(async () => {
    await service?.kill();
    temp.remove();
  });

  it(`loses no acknowledged command over ${ROUNDS} SIGKILLs mid-load, and history, chains and read models agree`, async () => {
    const acknowledged: Acknowledged[] = [];
    const counts: Counts = {
      rounds: 0, sent: 0, answered2xx: 0, answered4xx: 0, unanswered: 0, lost: 0, replayMismatches: 0,
      readModelMismatches: 0, rebuildMismatches: 0, integrityFailures: 0, eventsAtEnd: 0,
      byKind: { register_org: 0, register_user: 0, set_member: 0, set_mode: 0 },
    };
    service = await startServiceProcess({ dataDir, env: ENV });
    for (let round = 1; round <= ROUNDS; round++) {
      const platform = await service.token('host-platform', 'platform');
      const load = sendLoad(service, platform, acknowledged, round);
      // Mid-load: once a few commands were answered (so every round has some to check), then
      // somewhere within the round's budget (2 s at 150/s).
      await Promise.race([load.answeredEnough, load.done]);
      await sleep(Math.floor(Math.random() * 1_200));
      await service.kill();
      const outcome = await load.done;
      counts.rounds += 1;
      counts.sent += outcome.sent;
      counts.answered4xx += outcome.refused;
      counts.unanswered += outcome.unanswered;
      counts.answered2xx += outcome.acknowledged.length;
      for (const a of outcome.acknowledged) counts.byKind[a.command.kind] += 1;
      acknowledged.push(...outcome.acknowledged);

      service = await startServiceProcess({ dataDir, env: ENV });
      await check(service, acknowledged, outcome.acknowledged, counts);
    }
    await service.stop();
    service = null;

    mkdirSync('test-artifacts', { recursive: true });
    writeFileSync(join('test-artifacts', 'crash-safety.json'), `${JSON.stringify({ ...counts, ratePerSecond: RATE_PER_SECOND, maxCommandsPerRound: MAX_COMMANDS_PER_ROUND, at: new Date().toISOString() }, null, 2)}\n`);
    expect(counts.rounds).toBe(ROUNDS);
    // The kill has to land while commands are still being answered, or the test proves nothing.
    expect(counts.unanswered).toBeGreaterThan(0);
    expect(counts.answered2xx + counts.answered4xx).toBeGreaterThanOrEqual(ROUNDS * ANSWERS_BEFORE_KILL);
    expect({ lost: counts.lost, replayMismatches: counts.replayMismatches, readModelMismatches: counts.readModelMismatches, rebuildMismatches: counts.rebuildMismatches, integrityFailures: counts.integrityFailures }).toEqual({
      lost: 0, replayMismatches: 0, readModelMismatches: 0, rebuildMismatches: 0, integrityFailures: 0,
    });
  }, 900_000);

  /** Open loop at a steady rate: a request leaves every tick whether or not the previous ones were answered. */
  function sendLoad(target: ServiceProcess, platform: string, known: readonly Acknowledged[], round: number): { answeredEnough: Promise<void>; done: Promise<LoadOutcome> } {
    let enough: () => void = () => undefined;
    const answeredEnough = new Promise<void>((resolve) => (enough = resolve));
    let answers = 0;
    return { answeredEnough, done: runLoad(target, platform, known, round, () => ++answers >= ANSWERS_BEFORE_KILL && enough()) };
  }

  async function runLoad(target: ServiceProcess, platform: string, known: readonly Acknowledged[], round: number, onAnswer: () => void): Promise<LoadOutcome> {
    const orgs = known.filter((a) => a.command.kind === 'register_org').map((a) => a.command.orgId!);
    const users = known.filter((a) => a.command.kind === 'register_user').map((a) => a.command.userId!);
    const acknowledged: Acknowledged[] = [];
    const inFlight: Promise<void>[] = [];
    let refused = 0;
    let unanswered = 0;
    let dead = false;
    for (let i = 0; i < MAX_COMMANDS_PER_ROUND && !dead; i++) {
      const command = nextCommand(round, i, orgs, users);
      inFlight.push(
        target.call(command.method, command.path, { token: platform, body: command.body, headers: { 'idempotency-key': command.key } }).then(
          (answer) => {
            onAnswer();
            if (answer.status >= 200 && answer.status < 300) {
              acknowledged.push({ command, status: answer.status, body: answer.body });
              if (command.kind === 'register_org') orgs.push(command.orgId!);
              if (command.kind === 'register_user') users.push(command.userId!);
            } else if (answer.status >= 400 && answer.status < 500) refused += 1;
            else throw new Error(`${command.method} ${command.path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
          },
          (error: unknown) => {
            // A validation failure of a real answer is a bug; a dropped connection is the kill. By name,
            // not class: fetch's TypeError comes from Node's realm, not the test's.
            if ((error as Error).name === 'TypeError' && /fetch failed|terminated|other side closed/.test((error as Error).message)) {
              unanswered += 1;
              dead = true;
            } else throw error;
          },
        ),
      );
      await sleep(1_000 / RATE_PER_SECOND);
    }
    await Promise.all(inFlight);
    return { sent: inFlight.length, refused, unanswered, acknowledged };
  }

  /** Registrations first, then a mix in which organisations and users keep being added. */
  function nextCommand(round: number, i: number, orgs: readonly string[], users: readonly string[]): Command {
    const key = randomUUID();
    const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
    const roll = Math.random();
    if (orgs.length < 3 || roll < 0.1) {
      const orgId = `org-${round}-${i}`;
      return { kind: 'register_org', method: 'POST', path: '/v1/organisations', body: { id: orgId, name: `Crash ${round}.${i}` }, key, stream: `organisation-${orgId}`, orgId };
    }
    if (users.length < 5 || roll < 0.4) {
      const userId = `user-${round}-${i}`;
      return { kind: 'register_user', method: 'POST', path: '/v1/users', body: { id: userId, email: `${userId}@example.test` }, key, stream: `user-${userId}`, userId };
    }
    const orgId = pick(orgs);
    if (roll < 0.85) {
      const userId = pick(users);
      return { kind: 'set_member', method: 'PUT', path: `/v1/organisations/${orgId}/members/${userId}`, body: { role: roll < 0.5 ? 'admin' : 'member' }, key, stream: `organisation-${orgId}`, orgId, userId };
    }
    return { kind: 'set_mode', method: 'PUT', path: `/v1/organisations/${orgId}/enforcement`, body: { mode: pick(['off', 'soft', 'hard']) }, key, stream: `organisation-${orgId}`, orgId };
  }

  async function check(target: ServiceProcess, all: readonly Acknowledged[], thisRound: readonly Acknowledged[], counts: Counts): Promise<void> {
    await waitUntil('ready after the restart', async () => (await target.call('GET', '/health/ready')).status === 200);
    const auditor = await target.token('auditor-1', 'auditor');
    const platform = await target.token('host-platform', 'platform');
    const operator = await target.token('operator-1', 'operator');

    // History: every acknowledged command at the stream, revision and position it answered.
    const exported = await target.call<string>('GET', '/v1/audit/export?format=jsonl', { token: auditor });
    expect(exported.status).toBe(200);
    expect(exported.body).toEqual(expect.any(String));
    const events = String(exported.body).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { stream: string; revision: number; position: string; type: string; data: Record<string, unknown> });
    counts.eventsAtEnd = events.length;
    const byPlace = new Map(events.map((e) => [`${e.stream}@${e.revision}`, e]));
    for (const a of all) {
      if (byPlace.get(`${a.command.stream}@${a.body.revision}`)?.position !== a.body.position) counts.lost += 1;
    }

    // Idempotency records: the same key and body answer what the first request answered.
    for (const a of thisRound) {
      const again = await target.call(a.command.method, a.command.path, { token: platform, body: a.command.body, headers: { 'idempotency-key': a.command.key } });
      if (again.status !== a.status || again.headers.get('idempotent-replayed') !== 'true' || JSON.stringify(again.body) !== JSON.stringify(a.body)) counts.replayMismatches += 1;
    }

    // Hash chains, over the whole store.
    const integrity = await target.call<string>('GET', '/v1/audit/integrity', { token: auditor });
    const summary = JSON.parse(String(integrity.body).trim().split('\n').at(-1)!) as { type: string; ok: boolean; eventsChecked: number };
    if (integrity.status !== 200 || summary.type !== 'summary' || !summary.ok || summary.eventsChecked < events.length) counts.integrityFailures += 1;

    // Read models after catch-up: each acknowledged command visible, then equal to a rebuild.
    const head = events.reduce((max, e) => Math.max(max, Number(e.position)), 0);
    const anyOrg = all.find((a) => a.command.kind === 'register_org')!.command.orgId!;
    await waitUntil('read models at the head', async () => (await target.call('GET', `/v1/organisations/${anyOrg}?minPosition=${head}`, { token: platform })).status === 200);
    const before = snapshot();
    counts.readModelMismatches += invisible(before, all, events);
    const started = await target.call('POST', '/v1/admin/projections/rebuild', { token: operator });
    expect(started.status).toBe(202);
    await waitUntil('the rebuild', async () => ['done', 'failed'].includes((await target.call('GET', '/v1/admin/projections/rebuild', { token: operator })).body.state), 120_000, 200);
    expect((await target.call('GET', '/v1/admin/projections/rebuild', { token: operator })).body.state).toBe('done');
    const rebuilt = snapshot();
    for (const collection of REBUILT) if (JSON.stringify(before[collection]) !== JSON.stringify(rebuilt[collection])) counts.rebuildMismatches += 1;
  }

  /** The read models as stored, read through a second, read-only connection to the live file. */
  function snapshot(): Record<string, Array<{ id: string; doc: string }>> {
    const db = new Database(join(dataDir, DERIVED_DATABASE_FILE), { readonly: true, fileMustExist: true });
    try {
      // A table is created on a collection's first write; until then the collection is empty.
      const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name));
      return Object.fromEntries(REBUILT.map((c) => [c, tables.has(`rm_${c}`) ? (db.prepare(`SELECT id, doc FROM "rm_${c}" ORDER BY id`).all() as Array<{ id: string; doc: string }>) : []]));
    } finally {
      db.close();
    }
  }

  /** Acknowledged commands whose effect the read models do not show. */
  function invisible(models: Record<string, Array<{ id: string; doc: string }>>, all: readonly Acknowledged[], events: ReadonlyArray<{ stream: string; type: string; data: Record<string, unknown> }>): number {
    const docs = (collection: string) => models[collection]!.map((row) => JSON.parse(row.doc) as Record<string, unknown>);
    const orgs = new Map(docs('organisations').map((d) => [d['id'] as string, d]));
    const users = new Set(docs('users').map((d) => d['id'] as string));
    const members = new Set(docs('org_members').map((d) => `${d['orgId']}|${d['userId']}`));
    const lastMode = new Map<string, unknown>();
    for (const e of events) if (e.type === 'EnforcementModeChanged') lastMode.set(e.stream.slice('organisation-'.length), e.data['to']);
    let missing = 0;
    for (const { command } of all) {
      const visible =
        command.kind === 'register_org' ? orgs.has(command.orgId!)
        : command.kind === 'register_user' ? users.has(command.userId!)
        : command.kind === 'set_member' ? members.has(`${command.orgId}|${command.userId}`)
        : orgs.get(command.orgId!)?.['mode'] === (lastMode.get(command.orgId!) ?? 'off');
      if (!visible) missing += 1;
    }
    return missing;
  }
});
