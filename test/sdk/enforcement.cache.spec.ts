import { createEnforcementClient, type EnforcementClient, type EnforcementClientOptions, type FeedState } from '../../sdk/two-factor-sdk.js';
import { startHarness, TEST_JWT_SECRET, type Harness } from '../support/http-harness.js';
import { expectCommandAnswer, registerOrg, registerUser, setMember } from '../http/http-steps.js';

const HOST = 'https://app.example.test';

/**
 * The SDK's host cache against the real service over loopback: real SSE, real projection. The
 * network between them is the only thing the specs hold: a fetch that counts what reaches the
 * decision route, can hold the feed's reconnections, and can hold the feed's bytes in transit.
 */
interface Network {
  readonly fetch: typeof fetch;
  /** Requests that reached GET /v1/enforcement/:userId (the HTTP decision), i.e. answers not from memory. */
  decisionCalls(): number;
  /** While closed, new feed connections wait. */
  holdReconnections(held: boolean): void;
  /** While paused, the feed's bytes already on their way wait. */
  pauseFeed(paused: boolean): void;
}

function network(): Network {
  let decisions = 0;
  let reconnections = gate(true);
  let delivery = gate(true);
  const fetchThrough: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    if (/^\/v1\/enforcement\/(?!changes$|documents\/)[^/]+$/.test(url.pathname)) decisions += 1;
    if (url.pathname !== '/v1/enforcement/changes') return fetch(input, init);
    await reconnections.passed();
    const response = await fetch(input, init);
    if (!response.body) return response;
    const held = new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        await delivery.passed();
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(held), { status: response.status, headers: response.headers });
  };
  return {
    fetch: fetchThrough,
    decisionCalls: () => decisions,
    holdReconnections: (held) => (held ? (reconnections = gate(false)) : reconnections.open()),
    pauseFeed: (paused) => (paused ? (delivery = gate(false)) : delivery.open()),
  };
}

function gate(open: boolean): { passed(): Promise<void>; open(): void } {
  let release!: () => void;
  const opened = open ? Promise.resolve() : new Promise<void>((resolve) => (release = resolve));
  return { passed: () => opened, open: () => release?.() };
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the SDK host cache against the real service', () => {
  let h: Harness;
  /** The first service, whose data directory a restarted one reuses: disposing it removes that directory. */
  let first: Harness;
  let platform: string;
  const clients: EnforcementClient[] = [];

  beforeAll(async () => {
    h = first = await startHarness({ env: { ENFORCEMENT_FEED_HEARTBEAT_MS: '500' } });
    platform = await h.token('host-platform', 'platform');
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await h.dispose();
    await first.dispose();
  });

  function cachedClient(net: Network, overrides: Partial<EnforcementClientOptions> = {}): { client: EnforcementClient; states: FeedState[]; following(): Promise<void>; down(): Promise<void> } {
    const states: FeedState[] = [];
    const client = createEnforcementClient({
      baseUrl: h.url,
      token: platform,
      handoff: { secret: TEST_JWT_SECRET },
      assertion: { secret: TEST_JWT_SECRET },
      hostOrigin: HOST,
      fetch: net.fetch,
      cache: { maxUsers: 1_000, reconnectDelayMs: 50, maxReconnectDelayMs: 200, onFeedState: (state) => states.push(state) },
      ...overrides,
    });
    clients.push(client);
    const reach = (state: FeedState) => eventually(async () => states.at(-1), (last) => last === state, `feed ${state}`).then(() => undefined);
    return { client, states, following: () => reach('following'), down: () => reach('down') };
  }

  async function memberOf(mode: 'off' | 'soft' | 'hard'): Promise<{ orgId: string; userId: string }> {
    const orgId = await registerOrg(h, platform);
    const userId = await registerUser(h, platform);
    expectCommandAnswer(await setMember(h, platform, orgId, userId, 'member'));
    if (mode !== 'off') await setMode(orgId, mode);
    return { orgId, userId };
  }

  async function setMode(orgId: string, mode: 'off' | 'soft' | 'hard'): Promise<string> {
    const answer = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode } });
    expectCommandAnswer(answer);
    return answer.body.position as string;
  }

  it('answers from memory, and a mode change reaches the cache and flips its answer', async () => {
    const net = network();
    const { client, following } = cachedClient(net);
    const { orgId, userId } = await memberOf('soft');
    await following();
    await eventually(() => client.decide(userId), (d) => d.action === 'prompt', 'first answer');
    const httpBefore = net.decisionCalls();
    await setMode(orgId, 'hard');
    const flipped = await eventually(() => client.decide(userId), (d) => d.action === 'redirect', 'the cached answer after the change');
    expect(flipped).toMatchObject({ requirement: 'hard', enforcedBy: [{ orgId, mode: 'hard' }] });
    expect(await client.decide(userId, orgId)).toMatchObject({ action: 'redirect' });
    expect(await client.decide(userId, 'not-a-member-org')).toEqual({ requirement: 'none', action: 'allow', twoFactorEnabled: false, enforcedBy: [] });
    // Not one of those answers asked the decision route: they came from the host's memory.
    expect(net.decisionCalls()).toBe(httpBefore);
    // And memory answers exactly what the service answers.
    const fresh = await h.call('GET', `/v1/enforcement/${userId}`, { token: platform });
    expect(await client.decide(userId)).toEqual(fresh.body);
  });

  it('misses no change made while its feed was cut server-side, and asks the service meanwhile', async () => {
    const net = network();
    const { client, following, down } = cachedClient(net);
    const { orgId, userId } = await memberOf('soft');
    const other = await memberOf('off');
    await following();
    expect(await client.decide(userId)).toMatchObject({ action: 'prompt' });
    expect(await client.decide(other.userId)).toMatchObject({ action: 'allow' });
    net.holdReconnections(true);
    h.service.app!.getHttpServer().closeAllConnections();
    await down();
    await setMode(orgId, 'hard');
    await setMode(other.orgId, 'soft');
    // While the feed is down every answer comes from the service.
    const before = net.decisionCalls();
    expect(await client.decide(userId)).toMatchObject({ action: 'redirect' });
    expect(net.decisionCalls()).toBe(before + 1);
    net.holdReconnections(false);
    await following();
    const after = net.decisionCalls();
    expect(await eventually(() => client.decide(userId), (d) => d.action === 'redirect', 'change made while cut')).toMatchObject({ requirement: 'hard' });
    expect(await eventually(() => client.decide(other.userId), (d) => d.action === 'prompt', 'other change made while cut')).toMatchObject({ requirement: 'soft' });
    expect(net.decisionCalls()).toBe(after);
  });

  it('reads its writes: from memory once the feed has reached minPosition, from the service before', async () => {
    const net = network();
    const { client, following } = cachedClient(net);
    const { orgId, userId } = await memberOf('soft');
    await following();
    expect(await client.decide(userId)).toMatchObject({ action: 'prompt' });
    net.pauseFeed(true);
    const position = await setMode(orgId, 'hard');
    const before = net.decisionCalls();
    // The feed is held back: memory is stale, so the service is asked (with minPosition) and answers the write.
    expect(await client.decide(userId, undefined, { minPosition: position })).toMatchObject({ action: 'redirect' });
    expect(net.decisionCalls()).toBe(before + 1);
    expect(await client.decide(userId)).toMatchObject({ action: 'prompt' });
    net.pauseFeed(false);
    const caughtUp = net.decisionCalls();
    await eventually(() => client.decide(userId), (d) => d.action === 'redirect', 'the feed catching up');
    expect(await client.decide(userId, undefined, { minPosition: position })).toMatchObject({ action: 'redirect' });
    expect(net.decisionCalls()).toBe(caughtUp);
  });

  it('follows the feed across a restart of the service on the same data directory', async () => {
    const net = network();
    const port = new URL(h.url).port;
    const { client, following, down } = cachedClient(net);
    const { orgId, userId } = await memberOf('soft');
    await following();
    expect(await client.decide(userId)).toMatchObject({ action: 'prompt' });
    net.holdReconnections(true);
    await h.stop();
    await down();
    h = await startHarness({ dataDir: h.dataDir, env: { PORT: port, ENFORCEMENT_FEED_HEARTBEAT_MS: '500' } });
    platform = await h.token('host-platform', 'platform');
    await setMode(orgId, 'hard');
    net.holdReconnections(false);
    await following();
    const calls = net.decisionCalls();
    await eventually(() => client.decide(userId), (d) => d.action === 'redirect', 'the change made after the restart');
    expect(net.decisionCalls()).toBe(calls);
  });

  it('refuses a token without the platform role on the feed, and then asks the service per decision', async () => {
    const net = network();
    const self = await registerUser(h, platform);
    const { client, states } = cachedClient(net, { token: await h.token(self) });
    expect(await client.decide(self)).toMatchObject({ action: 'allow' });
    expect(net.decisionCalls()).toBe(1);
    expect(states).not.toContain('following');
  });
});
