import { comparePositions } from '../../src/kernel/position.js';
import { startHarness, type Harness } from '../support/http-harness.js';
import { isDecisionFor, readFeed, type FeedReader } from '../support/feed-reader.js';
import { expectCommandAnswer, expectProblem, registerOrg, registerUser, setMember } from './http-steps.js';

/** GET /v1/enforcement/changes over real HTTP: real SSE, real projection, real SQLite. */
describe('the enforcement change feed', () => {
  let h: Harness;
  let platform: string;
  const open: FeedReader[] = [];

  beforeAll(async () => {
    h = await startHarness({ env: { ENFORCEMENT_FEED_HEARTBEAT_MS: '300' } });
    platform = await h.token('host-platform', 'platform');
  });
  afterEach(() => {
    for (const feed of open.splice(0)) feed.close();
  });
  afterAll(() => h.dispose());

  async function follow(query = '', headers: Record<string, string> = {}): Promise<FeedReader> {
    const abort = new AbortController();
    const response = await h.openStream(`/v1/enforcement/changes${query}`, { token: platform, headers, signal: abort.signal });
    expect(response.status).toBe(200);
    const feed = readFeed(response, abort);
    open.push(feed);
    return feed;
  }

  async function orgWithMembers(count: number): Promise<{ orgId: string; members: string[] }> {
    const orgId = await registerOrg(h, platform);
    const members: string[] = [];
    for (let i = 0; i < count; i++) {
      const userId = await registerUser(h, platform);
      expectCommandAnswer(await setMember(h, platform, orgId, userId, 'member'));
      members.push(userId);
    }
    return { orgId, members };
  }

  const setMode = async (orgId: string, mode: 'off' | 'soft' | 'hard'): Promise<string> => {
    const answer = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode } });
    expectCommandAnswer(answer);
    return answer.body.position as string;
  };
  const documentOf = (event: { data: string }) => JSON.parse(event.data);

  it('refuses anyone but the platform before the stream starts, as problem+json', async () => {
    const user = await registerUser(h, platform);
    expectProblem(await h.call('GET', '/v1/enforcement/changes'), 401, 'unauthorized');
    expectProblem(await h.call('GET', '/v1/enforcement/changes', { token: await h.token(user) }), 403, 'forbidden');
    expectProblem(await h.call('GET', '/v1/enforcement/changes', { token: await h.token('support-agent', 'support') }), 403, 'forbidden');
  });

  it('answers 400 unknown_position for a position beyond the head, in the query or in Last-Event-ID', async () => {
    expectProblem(await h.call('GET', '/v1/enforcement/changes?after=99999999999', { token: platform }), 400, 'unknown_position');
    expectProblem(await h.call('GET', '/v1/enforcement/changes', { token: platform, headers: { 'last-event-id': '99999999999' } }), 400, 'unknown_position');
    expectProblem(await h.call('GET', '/v1/enforcement/changes?after=banana', { token: platform }), 400, 'invalid_request');
    expectProblem(await h.call('GET', '/v1/enforcement/changes', { token: platform, headers: { 'last-event-id': 'banana' } }), 400, 'invalid_request');
  });

  it('streams the document of every member when an organisation changes mode, the id closing the position', async () => {
    const { orgId, members } = await orgWithMembers(3);
    const feed = await follow();
    await feed.next((event) => event.event === 'position');
    const position = await setMode(orgId, 'hard');
    const events = [];
    for (const member of members) events.push(await feed.next(isDecisionFor(member)));
    for (const event of events) {
      const doc = documentOf(event);
      expect(doc).toMatchObject({ position, found: true, decision: { requirement: 'hard', action: 'redirect' }, orgs: [{ orgId, decision: { action: 'redirect' } }], validUntil: null });
    }
    // One event changed three documents: only the last of them says the position is complete.
    expect(events.map((event) => event.id)).toEqual([null, null, position]);
    // And what the feed sends is what the decision answers.
    const answer = await h.call('GET', `/v1/enforcement/${members[0]}?minPosition=${position}`, { token: platform });
    expect(documentOf(events[0]!).decision).toEqual(answer.body);
    const scoped = await h.call('GET', `/v1/enforcement/${members[0]}?orgId=${orgId}&minPosition=${position}`, { token: platform });
    expect(documentOf(events[0]!).orgs[0].decision).toEqual(scoped.body);
  });

  it('back-fills from a position, then follows live, with nothing missed and nothing twice', async () => {
    const { orgId, members } = await orgWithMembers(2);
    const start = await setMode(orgId, 'soft');
    const missed = await setMode(orgId, 'hard');
    const feed = await follow(`?after=${start}`);
    const backfilled = [await feed.next(isDecisionFor(members[0]!)), await feed.next(isDecisionFor(members[1]!))];
    expect(backfilled.map((event) => documentOf(event).position)).toEqual([missed, missed]);
    const live = await setMode(orgId, 'off');
    const followed = [await feed.next(isDecisionFor(members[0]!)), await feed.next(isDecisionFor(members[1]!))];
    expect(followed.map((event) => documentOf(event).decision.requirement)).toEqual(['none', 'none']);
    expect(followed[1]!.id).toBe(live);
    const forMembers = feed.received.filter((event) => members.some((member) => isDecisionFor(member)(event)));
    expect(forMembers.map((event) => documentOf(event).position)).toEqual([missed, missed, live, live]);
    // Ids only ever move forward.
    const ids = feed.received.map((event) => event.id).filter((id): id is string => id !== null);
    for (let i = 1; i < ids.length; i++) expect(comparePositions(ids[i]!, ids[i - 1]!)).toBeGreaterThanOrEqual(0);
  });

  it('resumes from Last-Event-ID rather than the original after= (the header wins)', async () => {
    const { orgId, members } = await orgWithMembers(1);
    const first = await setMode(orgId, 'soft');
    const second = await setMode(orgId, 'hard');
    const feed = await follow(`?after=0`, { 'last-event-id': first });
    const event = await feed.next(isDecisionFor(members[0]!));
    expect(documentOf(event).position).toBe(second);
  });

  it('moves the position on when a change touched no decision, and keeps a quiet stream alive', async () => {
    const feed = await follow();
    const userId = await registerUser(h, platform);
    // Starting a 2FA setup changes no decision.
    const setup = await h.call('POST', `/v1/users/${userId}/two-factor/setup`, { token: platform });
    expect(setup.status).toBe(201);
    const position: string = setup.body.position;
    const reached = await feed.next((event) => event.event === 'position' && comparePositions(event.id!, position) >= 0);
    expect(reached.data).toBe(JSON.stringify({ position: reached.id }));
    const raw = await rawText(h, platform, 900);
    expect(raw).toContain(': keep-alive');
  });

  it('loads one user\'s document, as the feed would send it', async () => {
    const { orgId, members } = await orgWithMembers(1);
    const position = await setMode(orgId, 'hard');
    const loaded = await h.call('GET', `/v1/enforcement/documents/${members[0]}?minPosition=${position}`, { token: platform });
    expect(loaded.status).toBe(200);
    expect(loaded.body).toMatchObject({ userId: members[0], position, found: true, decision: { action: 'redirect' } });
    const unknown = await h.call('GET', '/v1/enforcement/documents/nobody-here', { token: platform });
    expect(unknown.body).toEqual({ userId: 'nobody-here', position: '0', found: false, decision: null, orgs: [], validUntil: null });
    expectProblem(await h.call('GET', `/v1/enforcement/documents/${members[0]}`, { token: await h.token(members[0]!) }), 403, 'forbidden');
  });
});

describe('the change feed\'s bounds and shutdown', () => {
  it('refuses a follower beyond ENFORCEMENT_FEED_MAX_CONNECTIONS with 503 feed_full, and a shutdown ends open streams', async () => {
    const h = await startHarness({ env: { ENFORCEMENT_FEED_MAX_CONNECTIONS: '1' } });
    try {
      const platform = await h.token('host-platform', 'platform');
      const abort = new AbortController();
      const response = await h.openStream('/v1/enforcement/changes', { token: platform, signal: abort.signal });
      const feed = readFeed(response, abort);
      await feed.next((event) => event.event === 'position');
      const refused = await h.call('GET', '/v1/enforcement/changes', { token: platform });
      expectProblem(refused, 503, 'feed_full');
      expect(refused.headers.get('retry-after')).toBe('5');
      // The service's stop must not wait on the open stream: it ends it.
      await h.stop();
      await feed.ended;
    } finally {
      await h.dispose();
    }
  });
});

describe('the change feed at shutdown, after a follower aborted its request', () => {
  it('closes that connection instead of leaving it to the keep-alive timeout (72 s), so a stop is prompt', async () => {
    const h = await startHarness();
    try {
      const platform = await h.token('host-platform', 'platform');
      // Node's fetch, as the SDK's follower uses it: an abort ends the body but leaves the socket
      // open, so the service sees no hang-up and its connection outlives the stream.
      const abort = new AbortController();
      const feed = readFeed(await h.openStream('/v1/enforcement/changes', { token: platform, signal: abort.signal }), abort);
      await feed.next((event) => event.event === 'position');
      feed.close();
      await new Promise((resolve) => setTimeout(resolve, 200));

      // With the connection left open, this waited for Fastify's keep-alive timeout: far past the test's.
      await h.stop();
    } finally {
      await h.dispose();
    }
  });
});

/** The stream's bytes for a while, comments included (the event parser drops those). */
async function rawText(h: Harness, token: string, forMs: number): Promise<string> {
  const abort = new AbortController();
  const response = await h.openStream('/v1/enforcement/changes', { token, signal: abort.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const timer = setTimeout(() => abort.abort(), forMs);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // Aborted: the time is up.
  } finally {
    clearTimeout(timer);
  }
  return text;
}
