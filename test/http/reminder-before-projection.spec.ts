import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SubjectNotProjectedError } from '../../src/reminders/reminder.sender.js';
import { startHarness, type Harness } from '../support/http-harness.js';

/**
 * The reminder saga creates a user's job before it commits the subject document the job reads
 * (that goes with its checkpoint), and a scheduler in another process can run the job in between.
 * Judged on the older document the job would end as `not_subject` and be removed: the user would
 * get no reminder until their next event. Here the API process runs no projector, so the window
 * stays open for as long as the test needs it; a second process projects when the test starts it.
 */
describe('a reminder job that runs before the saga has committed what it scheduled', () => {
  let api: Harness;
  let projector: Harness | null = null;

  beforeAll(async () => {
    api = await startHarness({ env: { ROLES: 'api' } });
  });
  afterAll(async () => {
    await projector?.stop();
    await api.dispose();
  });

  async function ok(method: string, path: string, body?: unknown): Promise<any> {
    const response = await api.call(method, path, { token: await api.token('host-platform', 'platform'), ...(body === undefined ? {} : { body }) });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }
  const outboxFiles = (): string[] => {
    try {
      return readdirSync(join(api.dataDir, 'outbox'));
    } catch {
      return [];
    }
  };

  it('fails to be retried while the saga is behind, then sends once the saga has committed', async () => {
    await ok('POST', '/v1/users', { id: 'ann', email: 'ann@example.com' });
    await ok('POST', '/v1/organisations', { id: 'racing', name: 'Racing Ltd' });
    await ok('PUT', '/v1/organisations/racing/members/ann', { role: 'member' });
    const hard = await ok('PUT', '/v1/organisations/racing/enforcement', { mode: 'hard', reason: 'policy' });
    const sender = api.service.runtime.reminders;

    // What a job without the position concluded: nothing to send, so Agenda removed the job.
    expect(await sender.run('ann')).toBe('not_subject');
    // With the position of the event that scheduled it, the job fails and stays for a retry.
    await expect(sender.run('ann', hard.position)).rejects.toBeInstanceOf(SubjectNotProjectedError);
    expect(outboxFiles()).toHaveLength(0);

    const sending = sender.run('ann', hard.position);
    projector = await startHarness({ dataDir: api.dataDir, clock: api.clock, env: { ROLES: 'api,projector' } });
    expect(await sending).toBe('sent');
    expect(outboxFiles()).toHaveLength(1);
    const sent = (await api.service.runtime.eventStore.readStream('user-ann')).filter((event) => event.type === 'ReminderSent');
    expect(sent).toHaveLength(1);
  }, 30_000);
});
