import { request, type IncomingMessage } from 'node:http';
import { readEventStream } from '../../sdk/event-stream.reader.js';
import { comparePositions } from '../../src/kernel/position.js';
import { BURST_ENV, startHarness, type Harness } from '../support/http-harness.js';
import { readFeed, type FeedReader } from '../support/feed-reader.js';
import { expectCommandAnswer, expectProblem, registerOrg, registerUser } from './http-steps.js';

/*
 * A follower that stops reading must not stall the feed or hold the server's memory: once the
 * socket's buffers are full and stay full for ENFORCEMENT_FEED_DRAIN_TIMEOUT_MS, the server cuts it,
 * its place among ENFORCEMENT_FEED_MAX_CONNECTIONS is freed, and it resumes with Last-Event-ID.
 *
 * The server only sees back-pressure once the loopback's kernel buffers are full (about 4 MB on
 * Linux: the server's send buffer grows to net.ipv4.tcp_wmem's maximum). So every user belongs to
 * many organisations (each membership adds its own decision to the user's document), and each
 * change of one organisation's mode sends every member's document again: a few hundred kB per
 * change. Changes are made until the server has cut the stalled follower, with a bound on how many.
 */
const USERS = 50;
const ORGS = 40;
/** Far more than any loopback buffers need (each change is several hundred kB); only a server that never cuts reaches it. */
const MAX_CHANGES = 80;
const BOUND_MS = 20_000;

describe('the change feed and a follower that stops reading', () => {
  let h: Harness;
  let platform: string;
  const open: FeedReader[] = [];

  beforeAll(async () => {
    h = await startHarness({ env: { ...BURST_ENV, ENFORCEMENT_FEED_MAX_CONNECTIONS: '2', ENFORCEMENT_FEED_DRAIN_TIMEOUT_MS: '1000' } });
    platform = await h.token('host-platform', 'platform');
  });
  afterAll(async () => {
    for (const feed of open) feed.close();
    await h.dispose();
  });

  async function follow(headers: Record<string, string> = {}): Promise<FeedReader> {
    const abort = new AbortController();
    const response = await h.openStream('/v1/enforcement/changes', { token: platform, headers, signal: abort.signal });
    expect(response.status).toBe(200);
    const feed = readFeed(response, abort);
    open.push(feed);
    return feed;
  }

  /** Tries to take a place on the feed; true when admitted (the stream is then let go at once). */
  async function admitted(): Promise<boolean> {
    const answer = await h.call('GET', '/v1/enforcement/changes', { token: platform });
    if (answer.status === 200) return true;
    expectProblem(answer, 503, 'feed_full');
    return false;
  }

  it('cuts the stalled follower, keeps serving the others, frees its place, and its resumption misses nothing', async () => {
    const users: string[] = [];
    for (let i = 0; i < USERS; i++) users.push(await registerUser(h, platform));
    const orgs: string[] = [];
    for (let i = 0; i < ORGS; i++) {
      const orgId = await registerOrg(h, platform);
      const synced = await h.call('PUT', `/v1/organisations/${orgId}/members`, { token: platform, body: { members: users.map((userId) => ({ userId, role: 'member' })) } });
      expectCommandAnswer(synced);
      orgs.push(orgId);
    }

    const reader = await follow();
    await reader.next((event) => event.event === 'position');
    const stalled = await openStalled(h.url, platform);
    // Both places are taken.
    expect(await admitted()).toBe(false);

    // (a) and (d): changes until the server has cut the stalled follower and freed its place.
    const changes: string[] = [];
    let freed = false;
    while (!freed && changes.length < MAX_CHANGES) {
      const answer = await h.call('PUT', `/v1/organisations/${orgs[0]}/enforcement`, { token: platform, body: { mode: changes.length % 2 === 0 ? 'hard' : 'soft' } });
      expectCommandAnswer(answer);
      const position: string = answer.body.position;
      changes.push(position);
      // The reading follower is not held up by the stalled one: each change reaches it in turn.
      await reader.next((event) => event.event === 'decision' && event.id === position, BOUND_MS);
      freed = await admitted();
    }
    expect(freed).toBe(true);
    // Operators see it: a host cut again and again is hung or too slow for the feed.
    expect(h.logs()).toContain('change feed follower cut off');

    // (b) The feed goes on for the follower that reads, with every member's document at every change.
    const after = await setMode(orgs[0]!, 'off');
    changes.push(after);
    await reader.next((event) => event.event === 'decision' && event.id === after, BOUND_MS);
    const byPosition = new Map<string, string[]>();
    for (const event of reader.received.filter((e) => e.event === 'decision')) {
      const doc = JSON.parse(event.data) as { userId: string; position: string };
      byPosition.set(doc.position, [...(byPosition.get(doc.position) ?? []), doc.userId]);
    }
    for (const position of changes) expect([...(byPosition.get(position) ?? [])].sort()).toEqual([...users].sort());

    // (a) The server ended the stalled connection: once it reads again, it gets what its own side had buffered, then the end.
    const before = await stalled.readToEnd();
    // The server cut it with a reset: the megabytes its kernel had queued for this client were dropped
    // at once rather than held (and delivered now), as a close would have done.
    expect(Buffer.byteLength(before)).toBeLessThan(1024 * 1024);
    const lastId = await lastEventId(before);
    expect(lastId).not.toBeNull();
    expect(comparePositions(lastId!, after)).toBeLessThan(0);

    // (c) It resumes where its last id says, and gets every member's newest document: no change lost.
    const resumed = await followWhenAdmitted({ 'last-event-id': lastId! });
    await resumed.next((event) => event.event === 'decision' && event.id === after, BOUND_MS);
    const newest = new Map<string, string>();
    for (const event of resumed.received.filter((e) => e.event === 'decision')) {
      const doc = JSON.parse(event.data) as { userId: string; position: string };
      newest.set(doc.userId, doc.position);
    }
    expect(users.map((userId) => newest.get(userId))).toEqual(users.map(() => after));
    // Nothing it had completed is sent again: the first thing back is a change after its id.
    const first = resumed.received.find((e) => e.event === 'decision')!;
    expect(comparePositions((JSON.parse(first.data) as { position: string }).position, lastId!)).toBeGreaterThan(0);

    // And it follows live again like any other.
    const live = await setMode(orgs[0]!, 'hard');
    await resumed.next((event) => event.event === 'decision' && event.id === live, BOUND_MS);
    await reader.next((event) => event.event === 'decision' && event.id === live, BOUND_MS);
  }, 120_000);

  async function setMode(orgId: string, mode: 'off' | 'soft' | 'hard'): Promise<string> {
    const answer = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode } });
    expectCommandAnswer(answer);
    return answer.body.position as string;
  }

  /** A client that honours 503 feed_full's Retry-After, sooner: the freed place may take a moment to show. */
  async function followWhenAdmitted(headers: Record<string, string>): Promise<FeedReader> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const abort = new AbortController();
      const response = await h.openStream('/v1/enforcement/changes', { token: platform, headers, signal: abort.signal });
      if (response.status === 200) {
        const feed = readFeed(response, abort);
        open.push(feed);
        return feed;
      }
      expect(response.status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the feed never admitted the resuming follower');
  }
});

interface StalledFollower {
  /** Starts reading again; resolves with everything the server had sent once the connection ends. */
  readToEnd(): Promise<string>;
}

/**
 * Node's HTTP client, whose answer is never read: once its small buffer is full it stops reading
 * the socket, and the kernel's buffers fill behind it as they would for a hung host.
 */
function openStalled(url: string, token: string): Promise<StalledFollower> {
  return new Promise((resolve, reject) => {
    const outgoing = request(`${url}/v1/enforcement/changes`, { agent: false, headers: { authorization: `Bearer ${token}` } }, (response: IncomingMessage) => {
      if (response.statusCode !== 200) return reject(new Error(`the stalled follower was refused: ${response.statusCode}`));
      response.pause();
      resolve({
        readToEnd: () =>
          new Promise<string>((done, fail) => {
            const chunks: Buffer[] = [];
            const timer = setTimeout(() => fail(new Error('the server never ended the stalled connection')), BOUND_MS);
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            // Cut mid-stream, the answer ends as aborted rather than complete: either way it is over.
            response.on('error', () => undefined);
            response.once('close', () => {
              clearTimeout(timer);
              done(Buffer.concat(chunks).toString('utf8'));
            });
            response.resume();
          }),
      });
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** What an EventSource would send as Last-Event-ID after reading `text`: the last id of a complete event. */
async function lastEventId(text: string): Promise<string | null> {
  let id: string | null = null;
  for await (const event of readEventStream(new Response(text).body!)) if (event.id !== null) id = event.id;
  return id;
}
