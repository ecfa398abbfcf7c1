import { RealTimeClock } from '../support/real-time.clock.js';
import { startHarness, type Harness } from '../support/http-harness.js';
import { waitFor } from '../support/wait-for.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Real time, intervals of seconds: two service instances run the scheduler on one SQLite file, and
 * the soft organisation becomes hard at its instant exactly once; a moved schedule does not fire at
 * its old instant, also across a restart.
 */
describe('scheduled escalation with two scheduler processes (real time)', () => {
  let first: Harness;
  let second: Harness;
  const env = { SCHEDULER_PROCESS_EVERY: '0.1 seconds' };

  beforeAll(async () => {
    first = await startHarness({ clock: new RealTimeClock(), env: { ...env, ROLES: 'api,projector,scheduler' } });
    second = await startHarness({ clock: new RealTimeClock(), env: { ...env, ROLES: 'api,scheduler' }, dataDir: first.dataDir });
  });
  afterAll(async () => {
    await second.dispose();
    await first.dispose();
  });

  async function ok(h: Harness, method: string, path: string, body?: unknown): Promise<any> {
    const response = await h.call(method, path, { token: await h.token('host-platform', 'platform'), ...(body === undefined ? {} : { body }) });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }
  const modeChanges = async (orgId: string) =>
    (await first.service.runtime.eventStore.readStream(`organisation-${orgId}`)).filter((e) => e.type === 'EnforcementModeChanged' && e.data['to'] === 'hard');

  it('flips soft to hard once at hardFrom, and never at a moved schedule\'s old instant', async () => {
    await ok(first, 'POST', '/v1/organisations', { id: 'timed', name: 'Timed Ltd' });
    await ok(first, 'POST', '/v1/organisations', { id: 'moved', name: 'Moved Ltd' });
    // Margin enough for the three commands below on a loaded machine (3 s once was not, with two
    // suites running at once: the old instant passed before the move was recorded).
    const soon = new Date(Date.now() + 6_000).toISOString();
    await ok(first, 'PUT', '/v1/organisations/timed/enforcement', { mode: 'soft', hardFrom: soon });
    await ok(second, 'PUT', '/v1/organisations/moved/enforcement', { mode: 'soft', hardFrom: soon });
    const later = new Date(Date.now() + 60_000).toISOString();
    await ok(second, 'PUT', '/v1/organisations/moved/enforcement', { mode: 'soft', hardFrom: later });
    // The premise of the case: the move was recorded before the old instant came.
    expect(Date.now()).toBeLessThan(Date.parse(soon));

    await waitFor('the scheduled escalation', async () => (await modeChanges('timed')).length >= 1);
    await sleep(2_000);
    const changes = await modeChanges('timed');
    expect(changes).toHaveLength(1);
    expect(changes[0]!.metadata.actor.id).toBe('escalation-scheduler');
    expect(await modeChanges('moved')).toHaveLength(0);
    const view = await ok(second, 'GET', '/v1/organisations/timed');
    expect(view.mode).toBe('hard');
  }, 40_000);

  it('fires a schedule that fell due while every scheduler was down, once, after a restart', async () => {
    await ok(first, 'POST', '/v1/organisations', { id: 'restarted', name: 'Restarted Ltd' });
    await ok(first, 'PUT', '/v1/organisations/restarted/enforcement', { mode: 'soft', hardFrom: new Date(Date.now() + 2_000).toISOString() });
    await waitFor('the saga to schedule the job', async () => (await first.service.runtime.readStore.get('escalation_jobs', 'restarted')) !== null);
    const dataDir = first.dataDir;
    await second.stop();
    await first.stop();
    await sleep(3_000);
    first = await startHarness({ clock: new RealTimeClock(), env: { ...env, ROLES: 'api,projector,scheduler' }, dataDir });
    second = await startHarness({ clock: new RealTimeClock(), env: { ...env, ROLES: 'api,scheduler' }, dataDir });
    await waitFor('the escalation after the restart', async () => (await modeChanges('restarted')).length >= 1);
    await sleep(1_500);
    expect(await modeChanges('restarted')).toHaveLength(1);
    expect(await modeChanges('timed')).toHaveLength(1);
  }, 40_000);
});
