import { randomBytes, randomUUID } from 'node:crypto';
import {
  DataKeyExistsError,
  DataKeyShreddedError,
  type KeyStore,
  type WrappedKey,
} from '../../src/ports/key-store.port.js';

export interface KeyStoreHarness {
  readonly store: KeyStore;
  /** A second store over the same storage, as another process (or a restart) would see it. */
  reopen(): Promise<KeyStore>;
  cleanup(): Promise<void>;
}

export function wrappedKeyFor(userId: string): WrappedKey {
  return {
    userId,
    keyId: randomUUID(),
    iv: randomBytes(12).toString('base64'),
    ciphertext: randomBytes(32).toString('base64'),
    tag: randomBytes(16).toString('base64'),
    createdAt: '2026-01-05T09:00:00.000Z',
  };
}

/** Every KeyStore adapter passes this suite; user ids are unique per test so shared servers work. */
export function keyStoreContract(makeHarness: () => Promise<KeyStoreHarness>): void {
  let harness: KeyStoreHarness;
  let store: KeyStore;
  const user = (): string => `user-${randomUUID()}`;

  beforeEach(async () => {
    harness = await makeHarness();
    store = harness.store;
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  it('knows nothing of a user who never had a key', async () => {
    await expect(store.get(user())).resolves.toBeNull();
  });

  it('returns exactly the wrapped key it stored', async () => {
    const key = wrappedKeyFor(user());
    await store.create(key);
    await expect(store.get(key.userId)).resolves.toEqual(key);
  });

  it('keeps keys durable and visible to another store over the same storage', async () => {
    const key = wrappedKeyFor(user());
    await store.create(key);
    const other = await harness.reopen();
    try {
      await expect(other.get(key.userId)).resolves.toEqual(key);
    } finally {
      await other.close();
    }
  });

  it('refuses to replace an existing key and keeps the first one', async () => {
    const first = wrappedKeyFor(user());
    await store.create(first);
    await expect(store.create(wrappedKeyFor(first.userId))).rejects.toBeInstanceOf(DataKeyExistsError);
    await expect(store.get(first.userId)).resolves.toEqual(first);
  });

  it('lets exactly one of two concurrent creations for a user win', async () => {
    const userId = user();
    const candidates = [wrappedKeyFor(userId), wrappedKeyFor(userId)];
    const outcomes = await Promise.allSettled(candidates.map((key) => store.create(key)));
    const winners = candidates.filter((_, i) => outcomes[i]!.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    const loser = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(loser.reason).toBeInstanceOf(DataKeyExistsError);
    await expect(store.get(userId)).resolves.toEqual(winners[0]);
  });

  it('reports a deleted key as shredded', async () => {
    const key = wrappedKeyFor(user());
    await store.create(key);
    await store.delete(key.userId);
    await expect(store.get(key.userId)).resolves.toBe('shredded');
  });

  it('never re-creates a key for a forgotten user', async () => {
    const key = wrappedKeyFor(user());
    await store.create(key);
    await store.delete(key.userId);
    await expect(store.create(wrappedKeyFor(key.userId))).rejects.toBeInstanceOf(DataKeyShreddedError);
    await expect(store.get(key.userId)).resolves.toBe('shredded');
  });

  it('tombstones a user forgotten before they ever had a key', async () => {
    const userId = user();
    await store.delete(userId);
    await expect(store.get(userId)).resolves.toBe('shredded');
    await expect(store.create(wrappedKeyFor(userId))).rejects.toBeInstanceOf(DataKeyShreddedError);
  });

  it('deletes idempotently', async () => {
    const key = wrappedKeyFor(user());
    await store.create(key);
    await store.delete(key.userId);
    await expect(store.delete(key.userId)).resolves.toBeUndefined();
    await expect(store.get(key.userId)).resolves.toBe('shredded');
  });

  it('deletes only the given user', async () => {
    const forgotten = wrappedKeyFor(user());
    const kept = wrappedKeyFor(user());
    await store.create(forgotten);
    await store.create(kept);
    await store.delete(forgotten.userId);
    await expect(store.get(kept.userId)).resolves.toEqual(kept);
  });

  it('keeps tombstones across a reopen', async () => {
    const key = wrappedKeyFor(user());
    await store.create(key);
    await store.delete(key.userId);
    const other = await harness.reopen();
    try {
      await expect(other.get(key.userId)).resolves.toBe('shredded');
      await expect(other.create(wrappedKeyFor(key.userId))).rejects.toBeInstanceOf(DataKeyShreddedError);
    } finally {
      await other.close();
    }
  });
}
