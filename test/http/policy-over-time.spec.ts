import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deadlinePhrase } from '../../src/reminders/reminder.email.js';
import { parseMessage } from '../mail/raw-message.js';
import { startHarness, type Harness } from '../support/http-harness.js';

const DAY = 86_400_000;

/** The fake clock drives the schedule: weeks pass in a call, the scheduler's job is run by hand. */
describe('scheduled escalation and newcomers\' grace over HTTP (fake clock)', () => {
  let h: Harness;
  let platform: string;
  let auditor: string;

  beforeAll(async () => {
    h = await startHarness();
    platform = await h.token('host-platform', 'platform');
    auditor = await h.token('auditor-1', 'auditor');
  });
  afterAll(async () => h.dispose());

  async function ok(method: string, path: string, body?: unknown): Promise<any> {
    const response = await h.call(method, path, { token: platform, ...(body === undefined ? {} : { body }) });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }
  const decision = async (userId: string, position: string) => ok('GET', `/v1/enforcement/${userId}?minPosition=${position}`);
  const history = async () => (await h.call('GET', '/v1/audit/streams/organisation-rollout?limit=500', { token: auditor })).body.events as Array<{ type: string; data: any }>;
  const outbox = (): string[] => readdirSync(join(h.dataDir, 'outbox')).map((file) => readFileSync(join(h.dataDir, 'outbox', file), 'utf8')).filter((raw) => raw.includes('ann@example.com')).map((raw) => parseMessage(raw).text ?? '');

  it('warns for two weeks, counts down, then enforces exactly once; a moved schedule never fires at its old instant', async () => {
    await ok('POST', '/v1/users', { id: 'ann', email: 'ann@example.com' });
    await ok('POST', '/v1/users', { id: 'admin-1', email: 'admin-1@example.com' });
    await ok('POST', '/v1/organisations', { id: 'rollout', name: 'Rollout Ltd' });
    await ok('PUT', '/v1/organisations/rollout/members/admin-1', { role: 'admin' });
    await ok('PUT', '/v1/organisations/rollout/members/ann', { role: 'member' });

    const start = h.clock.now().getTime();
    const past = await h.call('PUT', '/v1/organisations/rollout/enforcement', { token: platform, body: { mode: 'soft', hardFrom: new Date(start - DAY).toISOString() } });
    expect(past.status).toBe(400);
    expect(past.body.code ?? past.body.type).toMatch(/hard_from_not_in_future/);
    const withHard = await h.call('PUT', '/v1/organisations/rollout/enforcement', { token: platform, body: { mode: 'hard', hardFrom: new Date(start + DAY).toISOString() } });
    expect(withHard.status).toBe(400);

    const firstDate = new Date(start + 14 * DAY).toISOString();
    let answer = await ok('PUT', '/v1/organisations/rollout/enforcement', { mode: 'soft', hardFrom: firstDate, graceDays: 7 });
    expect(await decision('ann', answer.position)).toMatchObject({ requirement: 'soft', action: 'prompt', deadline: firstDate });
    expect((await ok('GET', `/v1/organisations/rollout?minPosition=${answer.position}`))).toMatchObject({ mode: 'soft', hardFrom: firstDate, graceDays: 7 });

    expect(await h.service.runtime.reminders.run('ann')).toBe('sent');
    const first = outbox()[0]!;
    expect(first).toMatch(/14 days left/);
    expect(first).toContain(deadlinePhrase(firstDate));
    expect(first).not.toContain(firstDate);

    // Moved a week later: the old instant passes without effect.
    const movedDate = new Date(start + 21 * DAY).toISOString();
    answer = await ok('PUT', '/v1/organisations/rollout/enforcement', { mode: 'soft', hardFrom: movedDate });
    const scheduled = (await history()).filter((e) => e.type === 'EscalationScheduled').map((e) => e.data.scheduleId as string);
    expect(scheduled).toHaveLength(2);
    expect((await history()).map((e) => e.type)).toContain('EscalationCancelled');
    const [oldId, newId] = scheduled as [string, string];
    h.clock.advance(14 * DAY);
    expect(await h.service.runtime.escalations.run('rollout', oldId)).toBe('nothing_to_do');
    expect(await h.service.runtime.escalations.run('rollout', newId)).toBe('not_due');
    expect(await decision('ann', answer.position)).toMatchObject({ requirement: 'soft', deadline: movedDate });

    // The countdown: 7 days before the moved date.
    expect(await h.service.runtime.reminders.run('ann')).toBe('sent');
    expect(outbox().some((mail) => /7 days left/.test(mail))).toBe(true);

    h.clock.advance(7 * DAY);
    expect(await h.service.runtime.escalations.run('rollout', newId)).toBe('escalated');
    expect(await h.service.runtime.escalations.run('rollout', newId)).toBe('nothing_to_do');
    const changes = (await history()).filter((e) => e.type === 'EnforcementModeChanged' && e.data.to === 'hard');
    expect(changes).toHaveLength(1);
    expect(changes[0]!.data).toMatchObject({ from: 'soft', to: 'hard', scheduleId: newId });

    // A newcomer to the now hard organisation is soft for the grace, then hard, without any command.
    await ok('POST', '/v1/users', { id: 'ben', email: 'ben@example.com' });
    const joinedAt = h.clock.now().getTime();
    answer = await ok('PUT', '/v1/organisations/rollout/members/ben', { role: 'member' });
    const graceEnd = new Date(joinedAt + 7 * DAY).toISOString();
    expect(await decision('ben', answer.position)).toMatchObject({ requirement: 'soft', action: 'prompt', deadline: graceEnd });
    expect(await decision('ann', answer.position)).toMatchObject({ requirement: 'hard', action: 'redirect', deadline: null });
    h.clock.advance(7 * DAY);
    expect(await decision('ben', answer.position)).toMatchObject({ requirement: 'hard', action: 'redirect', deadline: null });

    const state = await h.call('GET', `/v1/audit/organisations/rollout/state?at=${encodeURIComponent(new Date(start + DAY).toISOString())}`, { token: auditor });
    expect(state.status).toBe(200);
    expect(state.body.state).toMatchObject({ mode: 'soft', graceDays: 7, escalation: { hardFrom: movedDate } });

    const from = encodeURIComponent(new Date(start - DAY).toISOString());
    const to = encodeURIComponent(h.clock.now().toISOString());
    const report = await h.call('GET', `/v1/audit/organisations/rollout/compliance?from=${from}&to=${to}`, { token: auditor });
    expect(report.status).toBe(200);
    expect(report.body.policyChanges.map((c: { change: string }) => c.change)).toEqual(['escalation_scheduled', 'grace_changed', 'escalation_cancelled', 'escalation_scheduled']);
    expect(report.body.modeChanges.at(-1)).toMatchObject({ from: 'soft', to: 'hard', actor: { id: 'escalation-scheduler' } });
  });

  it('a retried schedule (same Idempotency-Key) is recorded once, with one schedule id', async () => {
    await ok('POST', '/v1/organisations', { id: 'retried', name: 'Retried Ltd' });
    const body = { mode: 'soft', hardFrom: new Date(h.clock.now().getTime() + 14 * DAY).toISOString() };
    const send = () => h.call('PUT', '/v1/organisations/retried/enforcement', { token: platform, body, headers: { 'idempotency-key': 'rollout-1' } });
    const [first, again] = [await send(), await send()];
    expect(first.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const events = await h.service.runtime.eventStore.readStream('organisation-retried');
    expect(events.filter((e) => e.type === 'EscalationScheduled')).toHaveLength(1);
    const tooMany = await h.call('PUT', '/v1/organisations/retried/enforcement', { token: platform, body: { mode: 'soft', graceDays: 91 } });
    expect(tooMany.status).toBe(400);
  });
});
