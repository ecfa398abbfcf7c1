import Database from 'better-sqlite3';
import { join } from 'node:path';
import { FakeClock } from '../../src/kernel/clock.js';
import { DERIVED_DATABASE_FILE } from '../../src/runtime/data-dir.files.js';
import { JOBS_TABLE } from '../../src/infrastructure/scheduler/sqlite.job-row.js';
import { REMINDER_SUBJECTS, type SubjectDoc } from '../../src/reminders/reminder.saga.js';
import { startHarness, type Harness } from '../support/http-harness.js';
import { makeTempDir } from '../support/temp-dir.js';
import { expectCommandAnswer, registerOrg, registerUser, setMember } from '../http/http-steps.js';

const DAY = 86_400_000;
const WEEK = 7 * DAY;

describe('a changed reminder cadence reaches reminders already scheduled', () => {
  const temp = makeTempDir('tfe-cadence-');
  // Agenda runs jobs by the real clock: a fake time a year ahead keeps it from running (and removing)
  // the jobs this test looks at; the reminder is sent by hand.
  const clock = new FakeClock(new Date(Date.now() + 365 * 86_400_000));
  const start = (soft: string): Promise<Harness> => startHarness({ clock, dataDir: temp.path, env: { REMINDER_SOFT_EVERY: soft, SCHEDULER_PROCESS_EVERY: '1 hour' } });
  let h: Harness | undefined;

  afterAll(async () => {
    await h?.stop();
    temp.remove();
  });

  async function settled(harness: Harness): Promise<void> {
    const head = await harness.service.runtime.eventStore.headPosition();
    const platform = await harness.token('host-platform', 'platform');
    expect((await harness.call('GET', `/v1/users/nobody?minPosition=${head}`, { token: platform })).status).toBe(404);
  }

  async function subject(harness: Harness, userId: string): Promise<SubjectDoc> {
    return (await harness.service.runtime.readStore.get<SubjectDoc>(REMINDER_SUBJECTS, userId))!;
  }

  /** The user's reminder jobs as the scheduler stores them: due instants in epoch milliseconds. */
  function jobsOf(userId: string): number[] {
    const db = new Database(join(temp.path, DERIVED_DATABASE_FILE), { readonly: true });
    try {
      const rows = db.prepare(`SELECT next_run_at, data FROM ${JOBS_TABLE}`).all() as Array<{ next_run_at: number | null; data: string | null }>;
      return rows.filter((row) => JSON.parse(row.data ?? '{}').userId === userId).map((row) => row.next_run_at!);
    } finally {
      db.close();
    }
  }

  it('moves the next due date (and its job) from a week to a day after the last reminder on restart', async () => {
    h = await start('1 week');
    const platform = await h.token('host-platform', 'platform');
    const userId = await registerUser(h, platform);
    const orgId = await registerOrg(h, platform, 'Cadence Ltd');
    expectCommandAnswer(await setMember(h, platform, orgId, userId, 'member'));
    expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'soft' } }));
    await settled(h);
    expect(await h.service.runtime.reminders.run(userId)).toBe('sent');
    const sentAt = clock.now().getTime();
    await settled(h);
    expect((await subject(h, userId)).dueAt).toBe(new Date(sentAt + WEEK).toISOString());
    await h.stop();
    expect(jobsOf(userId)).toEqual([sentAt + WEEK]);

    clock.advance(60_000);
    h = await start('1 day');
    expect((await subject(h, userId)).dueAt).toBe(new Date(sentAt + DAY).toISOString());
    await h.stop();
    expect(jobsOf(userId)).toEqual([sentAt + DAY]);

    // The same cadence again changes nothing.
    h = await start('1 day');
    expect((await subject(h, userId)).dueAt).toBe(new Date(sentAt + DAY).toISOString());
    await h.stop();
    expect(jobsOf(userId)).toEqual([sentAt + DAY]);
  }, 60_000);
});
