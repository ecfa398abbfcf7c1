import Database from 'better-sqlite3';
import { join } from 'node:path';
import { JOBS_TABLE } from '../../src/infrastructure/scheduler/sqlite.job-row.js';
import type { Doc } from '../../src/ports/read-store.port.js';
import { SEND_NOTICE_JOB } from '../../src/reminders/notice.jobs.js';
import { DERIVED_DATABASE_FILE } from '../../src/runtime/data-dir.files.js';
import { RebuildInProgressError } from '../../src/projections/projection.rebuild.js';
import { startHarness, type Harness } from '../support/http-harness.js';
import { enableTwoFactor, expectCommandAnswer, expectProblem, registerOrg, registerUser, setMember } from '../http/http-steps.js';

const REBUILT = ['organisations', 'org_members', 'users', 'enforcement', 'enforcement_orgs', 'enforcement_members', 'reminder_history', 'reset_requests'];
const SAGA = ['reminder_subjects', 'reminder_orgs', 'reminder_members'];

describe('projection rebuild', () => {
  let h: Harness;
  let platform: string;
  let operator: string;

  beforeAll(async () => {
    h = await startHarness();
    platform = await h.token('host-platform', 'platform');
    operator = await h.token('operator-1', 'operator');
    await buildHistory();
  });
  afterAll(() => h.dispose());

  /** Organisations with members, modes, Xero, 2FA, a reset, a reminder and a forgotten user. */
  async function buildHistory(): Promise<void> {
    const support = await h.token('support-1', 'support');
    for (let o = 0; o < 3; o++) {
      const orgId = await registerOrg(h, platform, `Rebuild ${o}`);
      const users = [];
      for (let u = 0; u < 4; u++) {
        const userId = await registerUser(h, platform);
        users.push(userId);
        expectCommandAnswer(await setMember(h, platform, orgId, userId, u === 0 ? 'admin' : 'member'));
      }
      expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: o === 0 ? 'hard' : 'soft' } }));
      if (o === 1) expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/xero-connection`, { token: platform, body: { tenantId: 'tenant-r' } }));
      await enableTwoFactor(h, await h.token(users[1]!), users[1]!);
      await enableTwoFactor(h, await h.token(users[2]!), users[2]!);
      expectCommandAnswer(await h.call('POST', `/v1/users/${users[2]}/two-factor/reset`, { token: support, body: { reason: 'lost phone' } }));
      expectCommandAnswer(await h.call('DELETE', `/v1/organisations/${orgId}/members/${users[3]}`, { token: platform }));
      if (o === 2) expectCommandAnswer(await h.call('POST', `/v1/users/${users[3]}/forget`, { token: operator }));
    }
    const reminded = await someUserWithoutTwoFactor();
    h.clock.advance(8 * 86_400_000);
    expect(await h.service.runtime.reminders.run(reminded)).toBe('sent');
  }

  async function someUserWithoutTwoFactor(): Promise<string> {
    await caughtUp();
    const page = await h.service.runtime.readStore.find<Doc & { userId: string }>('org_members', { twoFactorEnabled: false, forgotten: false }, { limit: 1 });
    return page.items[0]!.userId;
  }

  /**
   * Security notices (for the resets) are sent by jobs on the real clock, which append NoticeSent
   * when they run: a snapshot taken before they all ran would miss events a rebuild then sees.
   */
  async function noticesSent(): Promise<void> {
    const db = new Database(join(h.dataDir, DERIVED_DATABASE_FILE), { readonly: true, fileMustExist: true });
    try {
      const pending = db.prepare(`SELECT count(*) AS n FROM ${JOBS_TABLE} WHERE name = ?`).pluck();
      for (let poll = 0; poll < 400 && (pending.get(SEND_NOTICE_JOB) as number) > 0; poll++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(pending.get(SEND_NOTICE_JOB)).toBe(0);
    } finally {
      db.close();
    }
  }

  async function caughtUp(): Promise<void> {
    await noticesSent();
    const head = await h.service.runtime.eventStore.headPosition();
    expect(await h.service.runtime.progress.waitFor(head!, 5000)).toBe(true);
  }

  async function snapshot(collections: readonly string[]): Promise<Record<string, Doc[]>> {
    const out: Record<string, Doc[]> = {};
    for (const c of collections) out[c] = (await h.service.runtime.readStore.find(c, {})).items;
    return out;
  }

  async function rebuildToEnd(): Promise<any> {
    const started = await h.call('POST', '/v1/admin/projections/rebuild', { token: operator });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ state: 'running', projections: ['directory', 'enforcement', 'reminder_history', 'reset_requests'] });
    for (let poll = 0; poll < 200; poll++) {
      const status = await h.call('GET', '/v1/admin/projections/rebuild', { token: operator });
      expect(status.status).toBe(200);
      if (status.body.state === 'done' || status.body.state === 'failed') return status.body;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('rebuild did not finish within 200 polls');
  }

  it('is for operators only', async () => {
    expectProblem(await h.call('POST', '/v1/admin/projections/rebuild'), 401);
    for (const token of [platform, await h.token('auditor-1', 'auditor'), await h.token('support-1', 'support')]) {
      expectProblem(await h.call('POST', '/v1/admin/projections/rebuild', { token }), 403);
      expectProblem(await h.call('GET', '/v1/admin/projections/rebuild', { token }), 403);
    }
  });

  it('yields read models identical to the live ones, repairs a damaged one, and leaves the saga alone', async () => {
    await caughtUp();
    const live = await snapshot(REBUILT);
    const saga = await snapshot(SAGA);
    expect(live['org_members']!.length).toBe(9);
    expect(live['reminder_history']!.length).toBeGreaterThan(0);
    const sagaCheckpoint = await h.service.runtime.readStore.getCheckpoint('reminders');
    // Damage a live read model behind the projector's back: only a real rebuild can repair it.
    const victim = live['users']![0]!;
    await h.service.runtime.readStore.write([{ kind: 'patch', collection: 'users', id: victim.id, set: { forgotten: 'corrupted' } }]);

    const result = await rebuildToEnd();

    expect(result).toMatchObject({ state: 'done', error: null, processed: expect.any(Number), position: await h.service.runtime.eventStore.headPosition() });
    expect(await snapshot(REBUILT)).toEqual(live);
    expect(await snapshot(SAGA)).toEqual(saga);
    expect(await h.service.runtime.readStore.getCheckpoint('reminders')).toBe(sagaCheckpoint);
    for (const name of ['directory', 'enforcement', 'reminder_history', 'reset_requests']) {
      expect(await h.service.runtime.readStore.getCheckpoint(name)).toBe(result.position);
    }
    for (const c of REBUILT) expect(await h.service.runtime.readStore.count(`${c}_next`, {})).toBe(0);
  });

  it('keeps projecting new events after the swap', async () => {
    await rebuildToEnd();
    const orgId = `org-after-${Date.now()}`;
    const created = await h.call('POST', '/v1/organisations', { token: platform, body: { id: orgId, name: 'After' } });
    expect(created.status).toBe(201);
    const view = await h.call('GET', `/v1/organisations/${orgId}?minPosition=${created.body.position}`, { token: platform });
    expect(view.status).toBe(200);
    expect(view.body.name).toBe('After');
  });

  it('refuses a second rebuild while one runs', async () => {
    const rebuild = h.service.runtime.projector!.rebuild;
    rebuild.start();
    expect(() => rebuild.start()).toThrow(RebuildInProgressError);
    await rebuild.cancel();
    await caughtUp();
  });
});
