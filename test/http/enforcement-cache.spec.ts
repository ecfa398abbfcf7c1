import { startHarness, type Harness } from '../support/http-harness.js';

/**
 * The enforcement check answers from documents kept in memory by the process that runs the
 * projector (ENFORCEMENT_CACHE_SIZE). Through HTTP: answers stay right with a bound smaller than
 * the users asked about, and a command's position read back with minPosition shows its effect.
 */
describe('GET /v1/enforcement/:userId from the in-memory documents', () => {
  let h: Harness;
  let platform: string;

  beforeAll(async () => {
    h = await startHarness({ env: { ENFORCEMENT_CACHE_SIZE: '2' } });
    platform = await h.token('host-platform', 'platform');
  });
  afterAll(() => h.dispose());

  async function ok(method: string, path: string, body?: unknown): Promise<{ position: string }> {
    const response = await h.call(method, path, { token: platform, ...(body === undefined ? {} : { body }) });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }
  const actions = async (users: readonly string[], minPosition: string): Promise<string[]> => {
    const answers = [];
    for (const userId of users) {
      const first = (await h.call('GET', `/v1/enforcement/${userId}?minPosition=${minPosition}`, { token: platform })).body.action;
      // Asked again at once: answered from memory, the bound (2) notwithstanding.
      const again = (await h.call('GET', `/v1/enforcement/${userId}`, { token: platform })).body.action;
      answers.push(first === again ? first : `${first} then ${again}`);
    }
    return answers;
  };

  it('answers every change at once with minPosition, asked about more users than it keeps', async () => {
    const users = ['c1', 'c2', 'c3'];
    for (const id of users) await ok('POST', '/v1/users', { id, email: `${id}@example.com` });
    await ok('POST', '/v1/organisations', { id: 'c-org', name: 'Cache Ltd' });
    let position = '';
    for (const id of users) ({ position } = await ok('PUT', `/v1/organisations/c-org/members/${id}`, { role: 'member' }));
    // Two users fit the bound: from the second round on, each is in memory when a change comes.
    expect(await actions(['c1', 'c2'], position)).toEqual(['allow', 'allow']);
    for (const [mode, action] of [['hard', 'redirect'], ['soft', 'prompt'], ['off', 'allow'], ['hard', 'redirect']] as const) {
      ({ position } = await ok('PUT', '/v1/organisations/c-org/enforcement', { mode }));
      expect(await actions(['c1', 'c2'], position)).toEqual([action, action]);
    }
    // A third user pushes the least recently asked out; answers stay right either way.
    ({ position } = await ok('DELETE', '/v1/organisations/c-org/members/c2'));
    expect(await actions(['c3', 'c1', 'c2'], position)).toEqual(['redirect', 'redirect', 'allow']);
  });

  it('refuses an out-of-range bound at start-up', async () => {
    await expect(startHarness({ env: { ENFORCEMENT_CACHE_SIZE: '-1' } })).rejects.toThrow(/ENFORCEMENT_CACHE_SIZE/);
  });
});
