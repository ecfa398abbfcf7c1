import { randomUUID } from 'node:crypto';
import type { ClaimRequest, IdempotencyStore } from '../../src/ports/idempotency-store.port.js';

export interface IdempotencyStoreHarness {
  readonly store: IdempotencyStore;
  /** A second store over the same storage, as another process (or a restart) would see it. */
  reopen(): Promise<IdempotencyStore>;
  cleanup(): Promise<void>;
}

const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const LEASE_MS = 60_000;
const LIFETIME_MS = 24 * 60 * 60 * 1000;

/** A claim at `at` ms after T0 with the usual lease and lifetime; keys are unique per call so shared servers work. */
function claimAt(at: number, overrides: Partial<ClaimRequest> = {}): ClaimRequest {
  return {
    key: `key-${randomUUID()}`,
    fingerprint: 'fingerprint-a',
    token: randomUUID(),
    now: new Date(T0 + at),
    leaseUntil: new Date(T0 + at + LEASE_MS),
    expiresAt: new Date(T0 + at + LIFETIME_MS),
    ...overrides,
  };
}

/** The same key claimed again later by another attempt. */
function retry(first: ClaimRequest, at: number, overrides: Partial<ClaimRequest> = {}): ClaimRequest {
  return claimAt(at, { key: first.key, fingerprint: first.fingerprint, ...overrides });
}

const answer = { status: 201, sealed: '{"sealed":"opaque"}' };

/** Every IdempotencyStore adapter passes this suite. */
export function idempotencyStoreContract(makeHarness: () => Promise<IdempotencyStoreHarness>): void {
  let harness: IdempotencyStoreHarness;
  let store: IdempotencyStore;

  beforeEach(async () => {
    harness = await makeHarness();
    store = harness.store;
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  it('claims a key nobody holds', async () => {
    await expect(store.claim(claimAt(0))).resolves.toEqual({ claimed: true });
  });

  it('answers an unfinished claim to a second claimant, with its fingerprint and lease', async () => {
    const first = claimAt(0);
    await store.claim(first);
    await expect(store.claim(retry(first, 1_000))).resolves.toEqual({
      claimed: false,
      record: { state: 'in_progress', fingerprint: 'fingerprint-a', leaseUntil: first.leaseUntil, expiresAt: first.expiresAt },
    });
    await expect(store.claim(retry(first, 1_000, { fingerprint: 'fingerprint-b' }))).resolves.toMatchObject({ claimed: false, record: { state: 'in_progress', fingerprint: 'fingerprint-a' } });
  });

  it('keeps the answer of the claim holder and answers it to every later claimant', async () => {
    const first = claimAt(0);
    await store.claim(first);
    await expect(store.complete(first.key, first.token, answer)).resolves.toBe(true);
    const expected = { claimed: false, record: { state: 'completed', fingerprint: 'fingerprint-a', answer, expiresAt: first.expiresAt } };
    await expect(store.claim(retry(first, 5_000))).resolves.toEqual(expected);
    // A completed record does not free up when its lease would have lapsed, only when it expires.
    await expect(store.claim(retry(first, 10 * LEASE_MS))).resolves.toEqual(expected);
  });

  it('refuses to complete or release for anyone but the claim holder', async () => {
    const first = claimAt(0);
    await store.claim(first);
    await expect(store.complete(first.key, randomUUID(), answer)).resolves.toBe(false);
    await store.release(first.key, randomUUID());
    await expect(store.claim(retry(first, 1_000))).resolves.toMatchObject({ claimed: false, record: { state: 'in_progress' } });
  });

  it('never overwrites a kept answer', async () => {
    const first = claimAt(0);
    await store.claim(first);
    await store.complete(first.key, first.token, answer);
    await expect(store.complete(first.key, first.token, { status: 422, sealed: 'other' })).resolves.toBe(false);
    await store.release(first.key, first.token);
    await expect(store.claim(retry(first, 1_000))).resolves.toMatchObject({ claimed: false, record: { state: 'completed', answer } });
  });

  it('frees a released claim for the next attempt, whatever its fingerprint', async () => {
    const first = claimAt(0);
    await store.claim(first);
    await store.release(first.key, first.token);
    await expect(store.claim(retry(first, 1_000, { fingerprint: 'fingerprint-b' }))).resolves.toEqual({ claimed: true });
  });

  it('lets a retry with the same fingerprint take over a lapsed claim; the first holder can then no longer complete', async () => {
    const first = claimAt(0);
    await store.claim(first);
    const takeover = retry(first, LEASE_MS);
    await expect(store.claim(takeover)).resolves.toEqual({ claimed: true });
    await expect(store.complete(first.key, first.token, answer)).resolves.toBe(false);
    await expect(store.complete(first.key, takeover.token, answer)).resolves.toBe(true);
    // The record still expires a day after the first request, not after the takeover.
    await expect(store.claim(retry(first, LEASE_MS + 1))).resolves.toMatchObject({ claimed: false, record: { expiresAt: first.expiresAt } });
  });

  it('does not let a different request take over a lapsed claim', async () => {
    const first = claimAt(0);
    await store.claim(first);
    await expect(store.claim(retry(first, 2 * LEASE_MS, { fingerprint: 'fingerprint-b' }))).resolves.toMatchObject({ claimed: false, record: { state: 'in_progress', fingerprint: 'fingerprint-a' } });
  });

  it('forgets a record once it expired: the key is free again, for any request', async () => {
    const first = claimAt(0);
    await store.claim(first);
    await store.complete(first.key, first.token, answer);
    const later = retry(first, LIFETIME_MS, { fingerprint: 'fingerprint-b' });
    await expect(store.claim(later)).resolves.toEqual({ claimed: true });
    await expect(store.claim(retry(first, LIFETIME_MS + 1))).resolves.toEqual({
      claimed: false,
      record: { state: 'in_progress', fingerprint: 'fingerprint-b', leaseUntil: later.leaseUntil, expiresAt: later.expiresAt },
    });
  });

  it('lets exactly one of many concurrent claims on a key win', async () => {
    const first = claimAt(0);
    const attempts = Array.from({ length: 20 }, (_, i) => retry(first, 0, { fingerprint: i % 2 === 0 ? 'fingerprint-a' : 'fingerprint-b' }));
    const results = await Promise.all(attempts.map((attempt) => store.claim(attempt)));
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
    const winner = attempts[results.findIndex((r) => r.claimed)]!;
    for (const lost of results.filter((r) => !r.claimed)) expect(lost).toMatchObject({ record: { state: 'in_progress', fingerprint: winner.fingerprint } });
  });

  it('keeps records apart per key', async () => {
    const one = claimAt(0);
    const two = claimAt(0);
    await store.claim(one);
    await store.complete(one.key, one.token, answer);
    await expect(store.claim(two)).resolves.toEqual({ claimed: true });
  });

  it('keeps answers durable and visible to another store over the same storage', async () => {
    const first = claimAt(0);
    await store.claim(first);
    await store.complete(first.key, first.token, answer);
    const other = await harness.reopen();
    try {
      await expect(other.claim(retry(first, 1_000))).resolves.toMatchObject({ claimed: false, record: { state: 'completed', answer } });
      await expect(other.claim(claimAt(0, { key: first.key, fingerprint: 'fingerprint-b' }))).resolves.toMatchObject({ claimed: false });
    } finally {
      await other.close();
    }
  });
}
