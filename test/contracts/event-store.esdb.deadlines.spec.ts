import { createServer, type Http2Server, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { EsdbEventStore } from '../../src/infrastructure/event-store/esdb.event-store.js';
import { DomainError } from '../../src/kernel/domain-error.js';
import { newEvent } from './event-store.contract.js';

/**
 * A stuck EventStoreDB on loopback: an HTTP/2 server that accepts the gRPC connection and every
 * call, and never answers one. The client sends reads with no deadline at all, so only the
 * adapter's own deadline can end them.
 */
interface StuckServer {
  readonly connectionString: string;
  readonly calls: string[];
  close(): Promise<void>;
}

async function startStuckServer(): Promise<StuckServer> {
  const sessions = new Set<Http2Session>();
  const calls: string[] = [];
  const server: Http2Server = createServer();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (_stream, headers) => {
    calls.push(String(headers[':path']));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    calls,
    async close() {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const DEADLINE_MS = 300;
/** Far above the deadline, far below "forever": generous for a loaded machine. */
const WELL_WITHIN_MS = 8_000;

describe('EventStoreDB adapter against a server that never answers', () => {
  let server: StuckServer;
  let store: EsdbEventStore;

  beforeEach(async () => {
    server = await startStuckServer();
    store = EsdbEventStore.fromConnectionString(server.connectionString, { deadlineMs: DEADLINE_MS, pingDeadlineMs: DEADLINE_MS });
    await connected();
  });

  /**
   * The client connects on its first call; on a loaded machine that can take longer than the
   * deadline, and the call then ends before the server saw it. Each test below asserts that its
   * call did reach the server, so the connection is made here first, by calls that time out.
   */
  async function connected(): Promise<void> {
    for (let attempt = 0; attempt < 20 && server.calls.length === 0; attempt++) await store.headPosition().catch(() => undefined);
    expect(server.calls.length).toBeGreaterThan(0);
    server.calls.length = 0;
  }

  afterEach(async () => {
    await store.close();
    await server.close();
  });

  async function failure(call: Promise<unknown>): Promise<{ error: unknown; elapsedMs: number }> {
    const started = Date.now();
    const error = await call.then(
      () => new Error('the call answered, but the server never does'),
      (reason: unknown) => reason,
    );
    return { error, elapsedMs: Date.now() - started };
  }

  it.each([
    ['readStream', (s: EsdbEventStore) => s.readStream('user-1')],
    ['readStream backwards', (s: EsdbEventStore) => s.readStream('user-1', { direction: 'backwards', limit: 1 })],
    ['readAll', (s: EsdbEventStore) => s.readAll({ limit: 10 })],
    ['readAll filtered by type', (s: EsdbEventStore) => s.readAll({ types: ['UserRegistered'], limit: 10 })],
    ['readAll filtered by stream prefix', (s: EsdbEventStore) => s.readAll({ streamPrefix: 'user-', limit: 10 })],
    ['headPosition', (s: EsdbEventStore) => s.headPosition()],
    ['append with an exact revision', (s: EsdbEventStore) => s.append('user-1', [newEvent('A')], 3)],
    ['append with no_stream', (s: EsdbEventStore) => s.append('user-1', [newEvent('A')], 'no_stream')],
    ['append with any', (s: EsdbEventStore) => s.append('user-1', [newEvent('A')], 'any')],
  ])('%s fails as 503 event_store_unavailable once the deadline passes', async (_name, call) => {
    const { error, elapsedMs } = await failure(call(store));

    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ kind: 'unavailable', code: 'event_store_unavailable', details: { retryAfterSeconds: 1 } });
    expect(elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    expect(elapsedMs).toBeLessThan(WELL_WITHIN_MS);
    expect(server.calls.length).toBeGreaterThan(0);
  });

  it('answers ping() with false once its deadline passes, which is what /health/ready reports', async () => {
    const started = Date.now();

    expect(await store.ping()).toBe(false);
    expect(Date.now() - started).toBeLessThan(WELL_WITHIN_MS);
  });

  it('stops a subscription that never received anything without hanging', async () => {
    const subscription = store.subscribe(async () => undefined, { onError: () => undefined });
    await new Promise((resolve) => setTimeout(resolve, DEADLINE_MS));

    await subscription.stop();
  });
});
