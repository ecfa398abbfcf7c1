import { loadConfig } from '../../src/config/config.js';
import { startService, type RunningService } from '../../src/runtime/service.js';
import { RealTimeClock } from '../support/real-time.clock.js';
import { startHarness, TEST_JWT_SECRET, type Harness } from '../support/http-harness.js';
import { expectCommandAnswer, registerOrg, registerUser, setMember } from './http-steps.js';
import { waitFor } from '../support/wait-for.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Two scheduler processes on one SQLite file (one also serves HTTP and projects, the other only
 * runs Agenda), real time and intervals of a second: an exemption's expiry is written exactly once.
 */
describe('exemption expiry with two scheduler processes on one SQLite file', () => {
  const env = { SCHEDULER_PROCESS_EVERY: '0.1 seconds' };
  let h: Harness;
  let second: RunningService | null = null;
  let platform: string;
  let orgId: string;
  let admin: string;

  const startSecondScheduler = async (): Promise<RunningService> =>
    startService(loadConfig({ DATA_DIR: h.dataDir, PORT: '0', HOST: '127.0.0.1', AUTH_JWT_SECRET: TEST_JWT_SECRET, ROLES: 'scheduler', LOG_LEVEL: 'warn', ...env }), { clock: new RealTimeClock() });
  const ended = async (userId: string) =>
    (await h.service.runtime.eventStore.readStream(`organisation-${orgId}`)).filter((e) => e.type === 'MemberExemptionEnded' && e.data['userId'] === userId);
  const exemptFor = async (userId: string, ms: number): Promise<void> => {
    const until = new Date(h.clock.now().getTime() + ms).toISOString();
    expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/members/${userId}/exemption`, { token: await h.token('agent', 'support'), body: { reason: 'Short test exemption', until } }));
  };

  beforeAll(async () => {
    h = await startHarness({ clock: new RealTimeClock(), env });
    second = await startSecondScheduler();
    platform = await h.token('host-platform', 'platform');
    orgId = await registerOrg(h, platform);
    admin = await registerUser(h, platform);
    expect((await setMember(h, platform, orgId, admin, 'admin')).status).toBe(200);
    expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'hard' } }));
  }, 60_000);
  afterAll(async () => {
    await second?.stop();
    await h.dispose();
  });

  it('writes one MemberExemptionEnded when the exemption ends, with both schedulers running', async () => {
    const member = await registerUser(h, platform);
    expect((await setMember(h, platform, orgId, member, 'member')).status).toBe(200);
    await exemptFor(member, 1_500);
    await waitFor('the expiry', async () => (await ended(member)).length > 0);
    await sleep(1_500);
    expect((await ended(member)).map((e) => e.data)).toEqual([{ userId: member, version: expect.any(Number), reason: 'expired', note: null }]);
  }, 30_000);

  it('writes it once even when both processes run the job at the same moment', async () => {
    const member = await registerUser(h, platform);
    expect((await setMember(h, platform, orgId, member, 'member')).status).toBe(200);
    await exemptFor(member, 60_000);
    const version = (await h.service.runtime.eventStore.readStream(`organisation-${orgId}`)).filter((e) => e.type === 'MemberExempted').length;
    h.clock.advance(61_000);
    const outcomes = await Promise.all([h.service.runtime.exemptions.run({ orgId, userId: member, version }), second!.runtime.exemptions.run({ orgId, userId: member, version })]);
    h.clock.advance(-61_000);
    expect(outcomes).toContain('expired');
    expect(await ended(member)).toHaveLength(1);
  }, 30_000);

  it('a replaced exemption\'s old job never fires; a job due while every scheduler was down runs once after the restart', async () => {
    const member = await registerUser(h, platform);
    expect((await setMember(h, platform, orgId, member, 'member')).status).toBe(200);
    await exemptFor(member, 1_000);
    await exemptFor(member, 3_000);
    await sleep(1_500);
    expect(await ended(member)).toEqual([]);
    await second!.stop();
    second = null;
    const dataDir = h.dataDir;
    await h.stop();
    await sleep(2_500);
    h = await startHarness({ clock: new RealTimeClock(), env, dataDir });
    second = await startSecondScheduler();
    await waitFor('the catch-up expiry', async () => (await ended(member)).length > 0);
    await sleep(1_000);
    expect(await ended(member)).toHaveLength(1);
  }, 40_000);
});
